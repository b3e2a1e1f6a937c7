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

extension LossConfig {
    init(_ r: SectionReader, numClasses: Int) {
        self.init()
        ce = r.double("ce", ce)
        dice = r.double("dice", dice)
        focal = r.double("focal", focal)
        r.check("ce", ce >= 0, "is a weight and must be >= 0")
        r.check("dice", dice >= 0, "is a weight and must be >= 0")
        r.check("focal", focal >= 0, "is a weight and must be >= 0")
        if ce == 0 && dice == 0 && focal == 0 {
            r.diagnostics.error("loss: every term has weight 0, so there is nothing to train; set loss.ce, loss.dice or loss.focal > 0", at: r.location)
        }
        if focal > 0 {
            focalGamma = r.double("focal_gamma", focalGamma)
            r.check("focal_gamma", focalGamma >= 0, "must be >= 0 when loss.focal > 0")
            focalAlpha = r.optional("focal_alpha") { key, node in
                if node.scalar != nil { return r.double(key, node).map { [Double](repeating: $0, count: numClasses) } }
                return r.doubles(key, node)
            }
            if let a = focalAlpha {
                r.check("focal_alpha", a.count == numClasses, "needs one value per class (\(numClasses), data.num_classes), has \(a.count)")
                r.check("focal_alpha", a.allSatisfy { $0 >= 0 }, "values must be >= 0")
            }
        }
        aux = r.double("aux", aux)
        r.check("aux", aux >= 0, "is a weight and must be >= 0")
        if r.has("class_weights") {
            classWeights = r.optional("class_weights") { r.doubles($0, $1) }
        } else if numClasses == 2 {
            classWeights = [1, 2]
        }
        if let w = classWeights, r.has("class_weights") {
            r.check("class_weights", w.count == numClasses, "needs one weight per class (data.num_classes is \(numClasses)), has \(w.count)")
            r.check("class_weights", w.allSatisfy { $0 >= 0 } && w.contains { $0 > 0 }, "must be >= 0 and not all 0")
        }
    }

    func render(into w: inout YAMLWriter) {
        w.field("ce", yamlNumber(ce))
        w.field("dice", yamlNumber(dice))
        w.field("focal", yamlNumber(focal))
        if focal > 0 {
            w.field("focal_gamma", yamlNumber(focalGamma))
            w.field("focal_alpha", focalAlpha.map { yamlFlow($0.map(yamlNumber)) } ?? "null")
        }
        w.field("class_weights", classWeights.map { yamlFlow($0.map(yamlNumber)) } ?? "null")
        w.field("aux", yamlNumber(aux))
    }
}
