/// What a segmentation model returns, like torchvision's `{"out": ..., "aux": ...}`: the main
/// logits N×classes×H×W and, in training mode, the logits of the extra heads the loss sees, all
/// at the input's size: an auxiliary head's (torchvision's FCN and DeepLabV3 `aux_classifier`),
/// added with its own weight, and the earlier deep-supervision heads (UNet++), whose losses
/// are averaged with the main one's.
public struct SegmentationOutput {
    public let out: Tensor
    public let aux: Tensor?
    public let deepSupervision: [Tensor]

    /// Logits computed in bf16 are handed on in fp32, which losses and metrics read.
    public init(out: Tensor, aux: Tensor? = nil, deepSupervision: [Tensor] = []) {
        self.out = out.float32()
        self.aux = aux?.float32()
        self.deepSupervision = deepSupervision.map { $0.float32() }
    }
}

/// A network that maps an image batch to per-pixel class logits and names its parts, so
/// that a config can freeze `encoder` or `backbone` without knowing parameter keys.
///
/// Only the forward is written; a training forward inside `Tape.record` records its backward.
public protocol SegmentationModel: Module {
    func forward(_ x: Tensor) -> SegmentationOutput
    /// Group name → the parameter-key prefixes it covers (`encoder` → `in_conv`, `down1`, …).
    var groups: [String: [String]] { get }
    /// The smallest image height and width the network accepts (its poolings must leave at
    /// least one pixel); callers check inputs against it before `forward`.
    var minimumInputSide: Int { get }
}

extension SegmentationModel {
    public func callAsFunction(_ x: Tensor) -> SegmentationOutput { forward(x) }
}

/// The groups of a model made of a `backbone` and a `classifier` head, as torchvision's
/// segmentation models are.
let backboneClassifierGroups: [String: [String]] = [
    "backbone": ["backbone"], "encoder": ["backbone"], "decoder": ["classifier"], "head": ["classifier"],
]

/// A freeze name that is neither a group of the model nor a prefix of its parameter keys.
public struct UnknownFreezeName: Error, CustomStringConvertible {
    public let description: String
}

extension SegmentationModel {
    /// The parameter-key prefixes `name` stands for: a group's (`encoder`), or `name` itself
    /// when some key starts with it (`down1`, `up1.conv.0`).
    public func freezePrefixes(_ name: String) throws -> [String] {
        if let group = groups[name] { return group }
        let keys = namedParameters().map(\.0)
        guard keys.contains(where: { $0 == name || $0.hasPrefix(name + ".") }) else {
            throw UnknownFreezeName(description: "'\(name)' is neither a group of this model "
                                    + "(\(groups.keys.sorted().joined(separator: ", "))) nor a prefix of its "
                                    + "parameter names (e.g. '\(keys.first ?? "")')")
        }
        return [name]
    }

    public var minimumInputSide: Int { 1 }
}

extension UNet {
    public var groups: [String: [String]] { UNet.groups }
    /// Four 2×2 poolings.
    public var minimumInputSide: Int { 16 }
}

extension VGGUNet {
    public var minimumInputSide: Int { VGGUNet.minimumInputSide }
}

extension ResNetUNet {
    public var minimumInputSide: Int { ResNetUNet.minimumInputSide }
}

extension ClassicFCN {
    public var minimumInputSide: Int { ClassicFCN.minimumInputSide }
}
