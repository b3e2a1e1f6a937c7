/// What Conv2d and ConvTranspose2d share: a weight, an optional bias, and a forward (with
/// its recorded backward) that runs oneDNN primitives for the geometry each subclass computes.
public class ConvolutionLayer: Module, Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    public let dilation: Int
    public let groups: Int
    /// The format the convolution computes in and writes its output in (`Module.setPrecision`
    /// sets it model-wide); parameters and their gradients are fp32 either way.
    public var precision = Precision.fp32

    init(weightShape: [Int], fanIn: Int, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int,
         padding: Int, dilation: Int, groups: Int = 1, bias: Bool, rng: inout SeededRandom) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0 && dilation > 0
                     && groups > 0 && inChannels % groups == 0 && outChannels % groups == 0)
        self.groups = groups
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        // PyTorch's default: kaiming_uniform_(a=√5), which is U(-1/√fan_in, 1/√fan_in), for weight and bias.
        let bound = 1 / Float(fanIn).squareRoot()
        let w = Tensor(shape: weightShape)
        w.fillUniform(-bound, bound, &rng)
        self.weight = Parameter(w)
        if bias {
            let b = Tensor(shape: [outChannels])
            b.fillUniform(-bound, bound, &rng)
            self.bias = Parameter(b)
        } else {
            self.bias = nil
        }
    }

    func geometry(_ x: Tensor) -> ConvGeometry { preconditionFailure("subclass") }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 4 && x.c == inChannels, "\(type(of: self)): expected \(inChannels) channels, got \(x.shape)")
        var g = geometry(x)
        g.precision = precision
        g.inputPrecision = precision == .fp32 ? .fp32 : x.precision
        let kernel = convolutionAlgorithm(g)
        // An fp32 convolution (or a bf16 one oneDNN has no kernel for here) reads fp32.
        let x = kernel.geometry.inputPrecision == x.precision ? x : x.float32()
        // In bf16 backward keeps the bf16 input (an fp32 image's bf16 copy).
        let input = kernel.inputOperand(x)
        let y = kernel.runForward(input, kernel.prepareForward(weight.value), bias?.value)
        let (weight, bias) = (weight, bias)
        let learnsWeight = weight.needsGrad, learnsBias = bias?.needsGrad ?? false
        guard let op = Tape.op(inputs: [x], learning: learnsWeight || learnsBias) else { return y }
        let needsInput = op.needsGradient[0]
        op.record(y) { dy in
            if learnsWeight || learnsBias {
                let (dw, db) = kernel.runBackwardWeights(input, dy)
                if learnsWeight { weight.accumulate(dw) }
                if learnsBias, let db { bias?.accumulate(db) }
            }
            // After a frozen part (a head on a frozen backbone) the input gradient would be
            // thrown away: oneDNN's backward-data pass is skipped.
            guard needsInput else { return [nil] }
            // Prepared again rather than kept from the forward: a whole model's reordered
            // weights alive until backward would cost more memory (141 MB for FCN-ResNet50 in
            // fp32) than the reorder costs time.
            return [kernel.runBackwardData(dy, kernel.prepareBackwardData(weight.value))]
        }
        return y
    }
}

/// A 2-D convolution, `nn.Conv2d(in, out, kernel_size, stride, padding, dilation, groups, bias=...)`;
/// weight [out, in/groups, k, k] (groups = in = out: MobileNet's depthwise convolutions).
public final class Conv2d: ConvolutionLayer {
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, rng: inout SeededRandom) {
        super.init(weightShape: [outChannels, inChannels / max(groups, 1), kernelSize, kernelSize],
                   fanIn: inChannels / max(groups, 1) * kernelSize * kernelSize, inChannels: inChannels,
                   outChannels: outChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                   dilation: dilation, groups: groups, bias: bias, rng: &rng)
    }

    override func geometry(_ x: Tensor) -> ConvGeometry {
        ConvGeometry(n: x.n, inChannels: inChannels, outChannels: outChannels, height: x.h, width: x.w,
                     kernel: kernelSize, stride: stride, padding: padding, dilation: dilation, groups: groups,
                     bias: bias != nil, transposed: false)
    }
}

/// A transposed convolution, `nn.ConvTranspose2d(in, out, kernel_size, stride, padding, output_padding)`;
/// weight [in, out, k, k] as in PyTorch.
public final class ConvTranspose2d: ConvolutionLayer {
    public let outputPadding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, bias: Bool = true, rng: inout SeededRandom) {
        precondition(outputPadding >= 0 && outputPadding < stride)
        self.outputPadding = outputPadding
        // PyTorch computes fan_in from dim 1 of the weight, which for a transposed conv is `out`.
        super.init(weightShape: [inChannels, outChannels, kernelSize, kernelSize],
                   fanIn: outChannels * kernelSize * kernelSize, inChannels: inChannels, outChannels: outChannels,
                   kernelSize: kernelSize, stride: stride, padding: padding, dilation: 1, bias: bias, rng: &rng)
    }

    override func geometry(_ x: Tensor) -> ConvGeometry {
        ConvGeometry(n: x.n, inChannels: inChannels, outChannels: outChannels, height: x.h, width: x.w,
                     kernel: kernelSize, stride: stride, padding: padding, dilation: 1, outputPadding: outputPadding,
                     bias: bias != nil, transposed: true)
    }
}
