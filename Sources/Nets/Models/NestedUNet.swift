/// UNet++ (Zhou et al., 2018, "UNet++: A Nested U-Net Architecture for Medical Image
/// Segmentation") as in 4uiiurz1/pytorch-nested-unet's `archs.NestedUNet`, with its structure,
/// parameter counts and state-dict keys (`conv0_0.conv1.weight`, …, `conv0_4.bn2.running_var`,
/// `final.weight`, or `final1` … `final4` with deep supervision).
///
/// Node x(i, j) sits at depth i (1/2^i of the input, widths·2^i channels) after j decoder
/// steps: x(i, 0) = block(pool(x(i−1, 0))) down the encoder, and each nested skip node
/// x(i, j) = block(cat[x(i, 0), …, x(i, j−1), up(x(i+1, j−1))]), dense skips at every level.
/// With `deepSupervision`, a 1×1 head scores each of x(0, 1) … x(0, 4); training averages
/// their losses, and inference may keep only the first `prune` levels (the paper's pruned
/// UNet++ L1 … L4), computing only the nodes x(i, j) with i + j ≤ prune.
///
/// Any input side of at least 16 works: each upsampled map is padded to its skips' size.
public final class NestedUNet: Module, SegmentationModel {
    /// `blocks[i][j]` is node x(i, j)'s VGGBlock, for i + j ≤ 4.
    private let blocks: [[VGGBlock]]
    /// One head on x(0, 4), or four on x(0, 1) … x(0, 4) with deep supervision.
    public let heads: [Conv2d]
    private let pool = MaxPool2d(kernelSize: 2)
    private let up = Upsample(scaleFactor: 2, alignCorners: true)

    public let numClasses: Int
    public let deepSupervision: Bool
    /// The level whose head predicts in eval mode (1…4; below 4 only with deep supervision).
    public let prune: Int

    /// `widths` are nb_filter, 32, 64, 128, 256, 512 in the reference.
    public init(inChannels: Int = 3, numClasses: Int, widths: [Int] = [32, 64, 128, 256, 512],
                deepSupervision: Bool = false, prune: Int = 4, rng: inout SeededRandom) {
        precondition(widths.count == 5 && (1...4).contains(prune) && (deepSupervision || prune == 4),
                     "NestedUNet: widths \(widths), prune \(prune) (below 4 needs deep supervision)")
        self.numClasses = numClasses
        self.deepSupervision = deepSupervision
        self.prune = prune
        // Built in PyTorch's declaration order (conv0_0 … conv4_0, conv0_1 … conv3_1, …, conv0_4),
        // so initialisation draws and key order follow it.
        var blocks = (0...4).map { _ in [VGGBlock]() }
        for j in 0...4 {
            for i in 0...(4 - j) {
                let input = j == 0 ? (i == 0 ? inChannels : widths[i - 1]) : widths[i] * j + widths[i + 1]
                blocks[i].append(VGGBlock(input, widths[i], widths[i], rng: &rng))
            }
        }
        self.blocks = blocks
        heads = (0..<(deepSupervision ? 4 : 1)).map { _ in Conv2d(widths[0], numClasses, kernelSize: 1, rng: &rng) }
    }

    public override func namedChildren() -> [(String, Module)] {
        var out: [(String, Module)] = []
        for j in 0...4 {
            for i in 0...(4 - j) { out.append(("conv\(i)_\(j)", blocks[i][j])) }
        }
        if deepSupervision {
            out += heads.enumerated().map { ("final\($0.offset + 1)", $0.element) }
        } else {
            out.append(("final", heads[0]))
        }
        return out
    }

    /// Four 2×2 poolings.
    public var minimumInputSide: Int { 16 }

    /// Training: every node, and with deep supervision the heads of levels 1…3 as
    /// `deepSupervision` outputs beside level 4's `out`. Eval: the nodes up to level `prune`
    /// and its head.
    public func forward(_ x: Tensor) -> SegmentationOutput {
        let levels = training ? 4 : prune
        // x[i][j], filled diagonal by diagonal (i + j = d) as the reference does.
        var nodes: [[Tensor]] = (0...4).map { _ in [] }
        for d in 0...levels {
            nodes[d].append(blocks[d][0](d == 0 ? x : pool(nodes[d - 1][0])))
            for j in stride(from: 1, through: d, by: 1) {
                let i = d - j
                nodes[i].append(blocks[i][j](joinSkips(nodes[i], upsampling: nodes[i + 1][j - 1], by: up)))
            }
        }
        guard deepSupervision else { return SegmentationOutput(out: heads[0](nodes[0][4])) }
        guard training else { return SegmentationOutput(out: heads[levels - 1](nodes[0][levels])) }
        return SegmentationOutput(out: heads[3](nodes[0][4]), deepSupervision: (1...3).map { heads[$0 - 1](nodes[0][$0]) })
    }

    /// The encoder column x(·, 0) (`backbone` too), the nested decoder nodes, and the heads.
    public var groups: [String: [String]] {
        let names = namedChildren().map(\.0)
        let encoder = names.filter { $0.hasSuffix("_0") }
        let head = names.filter { $0.hasPrefix("final") }
        return ["encoder": encoder, "backbone": encoder,
                "decoder": names.filter { !encoder.contains($0) }, "head": head]
    }
}

/// The reference's `VGGBlock(in, middle, out)`: (3×3 conv with bias → BatchNorm → ReLU) twice;
/// each ReLU runs fused into its BatchNorm (the reference's one `act_func` module has no keys).
public final class VGGBlock: Module, Layer {
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let conv2: Conv2d
    public let bn2: BatchNorm2d

    public init(_ inChannels: Int, _ middleChannels: Int, _ outChannels: Int, rng: inout SeededRandom) {
        conv1 = Conv2d(inChannels, middleChannels, kernelSize: 3, padding: 1, rng: &rng)
        bn1 = BatchNorm2d(middleChannels, fusedReLU: true)
        conv2 = Conv2d(middleChannels, outChannels, kernelSize: 3, padding: 1, rng: &rng)
        bn2 = BatchNorm2d(outChannels, fusedReLU: true)
    }

    public func forward(_ x: Tensor) -> Tensor { bn2(conv2(bn1(conv1(x)))) }
}
