/// A network that maps an image batch to per-pixel class logits and names its parts, so
/// that a config can freeze `encoder` or `backbone` without knowing parameter keys.
///
/// Models with an auxiliary head (torchvision's FCN and DeepLabV3 `aux_classifier`) expose
/// its logits after a training-mode forward, and take its gradient in `backward`; the
/// trainer adds the auxiliary loss with its own weight.
public protocol SegmentationModel: Layer {
    /// Group name → the parameter-key prefixes it covers (`encoder` → `in_conv`, `down1`, …).
    var groups: [String: [String]] { get }
    /// The auxiliary head's logits (same size as the main logits) from the last training
    /// forward, or nil when the model has no auxiliary head (or it is switched off, or in eval).
    var auxiliaryLogits: Tensor? { get }
    /// Backward through the main logits and, when given, the auxiliary logits.
    func backward(_ dy: Tensor, auxiliaryGradient: Tensor?) -> Tensor
    /// The smallest image height and width the network accepts (its poolings must leave at
    /// least one pixel); callers check inputs against it before `forward`.
    var minimumInputSide: Int { get }
}

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

    public var auxiliaryLogits: Tensor? { nil }
    public var minimumInputSide: Int { 1 }

    public func backward(_ dy: Tensor, auxiliaryGradient: Tensor?) -> Tensor {
        precondition(auxiliaryGradient == nil, "\(type(of: self)) has no auxiliary head")
        return backward(dy)
    }
}

extension UNet: SegmentationModel {
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
