/// The `loss:` section: a weighted sum of cross-entropy, Dice and focal terms (see
/// `SegmentationLoss`). Defaults are the DRIVE recipe: CE with class weights [1, 2] plus
/// Dice, both weight 1, pixels at `data.ignore_index` excluded.
public struct LossConfig: Equatable, Sendable {
    public var ce = 1.0
    public var dice = 1.0
    public var focal = 0.0
    /// Focal exponent γ (used only when `focal > 0`).
    public var focalGamma = 2.0
    /// Focal α per class (a scalar in the file is repeated for every class); nil: α = 1.
    /// Used only when `focal > 0`.
    public var focalAlpha: [Double]?
    /// Cross-entropy class weights, one per class; nil: all 1. When the file gives none
    /// and `data.num_classes` is 2, the recipe's [1, 2] (vessels count double).
    public var classWeights: [Double]?
    /// Weight of the auxiliary head's loss (the same terms on its logits), as torchvision's
    /// reference scripts use (0.5); applies when the model trains with `model.aux: true`.
    public var aux = 0.5

    public init() {}
}

extension LossConfig: ConfigSection {
    static let keys: [ConfigKey<LossConfig>] = [
        .value("ce", \.ce, check: { [($0.ce >= 0, "is a weight and must be >= 0")] }),
        .value("dice", \.dice, check: { [($0.dice >= 0, "is a weight and must be >= 0")] }),
        .value("focal", \.focal, check: { [($0.focal >= 0, "is a weight and must be >= 0")] }),
        .value("focal_gamma", \.focalGamma, when: { $0.usesFocal },
               check: { [($0.focalGamma >= 0, "must be >= 0 when loss.focal > 0")] }),
        .readByInit("focal_alpha", \.focalAlpha, when: { $0.usesFocal }),
        .value("class_weights", \.classWeights),
        .value("aux", \.aux, check: { [($0.aux >= 0, "is a weight and must be >= 0")] }),
    ]

    /// `numClasses` (`data.num_classes`) sizes `focal_alpha` and `class_weights`, and with
    /// two classes the default weights are the recipe's [1, 2].
    init(_ r: SectionReader, numClasses: Int) {
        self.init()
        readKeys(r)
        if ce == 0 && dice == 0 && focal == 0 {
            r.diagnostics.error("loss: every term has weight 0, so there is nothing to train; set loss.ce, loss.dice or loss.focal > 0", at: r.location)
        }
        if usesFocal {
            focalAlpha = r.optional("focal_alpha") { key, node in
                if node.scalar != nil { return r.double(key, node).map { [Double](repeating: $0, count: numClasses) } }
                return r.doubles(key, node)
            }
            if let a = focalAlpha {
                r.check("focal_alpha", a.count == numClasses, "needs one value per class (\(numClasses), data.num_classes), has \(a.count)")
                r.check("focal_alpha", a.allSatisfy { $0 >= 0 }, "values must be >= 0")
            }
        }
        if !r.has("class_weights") && numClasses == 2 { classWeights = [1, 2] }
        if let w = classWeights, r.has("class_weights") {
            r.check("class_weights", w.count == numClasses, "needs one weight per class (data.num_classes is \(numClasses)), has \(w.count)")
            r.check("class_weights", w.allSatisfy { $0 >= 0 } && w.contains { $0 > 0 }, "must be >= 0 and not all 0")
        }
    }

    /// The focal term's settings apply only when it has a weight.
    private var usesFocal: Bool { focal > 0 }
}
