/// A network that maps an image batch to per-pixel class logits and names its parts, so
/// that a config can freeze `encoder` or `backbone` without knowing parameter keys.
public protocol SegmentationModel: Layer {
    /// Group name → the parameter-key prefixes it covers (`encoder` → `in_conv`, `down1`, …).
    var groups: [String: [String]] { get }
}

extension UNet: SegmentationModel {
    public var groups: [String: [String]] { UNet.groups }
}
