/// How a convolution layer runs: the passes its forward and recorded backward call, whichever
/// kernel computes them.
protocol ConvolutionAlgorithm: AnyObject {
    /// The geometry computed, whose precisions may differ from the one asked for (a bf16
    /// convolution oneDNN has no kernel for runs in fp32).
    var geometry: ConvGeometry { get }
    /// The NHWC input as the layers hold it (and its gradient).
    var src: DNNL.MemoryDescriptor { get }
    /// The input as the passes read it: bf16 NHWC in bf16, else `src`.
    var srcOperand: DNNL.MemoryDescriptor { get }
    /// The weights (PyTorch's layout) in the format the forward reads.
    func prepareForward(_ weight: Tensor) -> PreparedWeights
    /// The weights in the format backward data reads.
    func prepareBackwardData(_ weight: Tensor) -> PreparedWeights
    /// y = conv(x, w) + b.
    func runForward(_ x: Operand, _ weights: PreparedWeights, _ b: Tensor?) -> Tensor
    /// dx from dy and the weights.
    func runBackwardData(_ dy: Tensor, _ weights: PreparedWeights) -> Tensor
    /// (dw in PyTorch's layout, db) from x and dy.
    func runBackwardWeights(_ x: Operand, _ dy: Tensor) -> (Tensor, Tensor?)
}

extension ConvolutionAlgorithm {
    /// `x` itself, or its bf16 copy when it is fp32 and the convolution computes in bf16.
    func inputOperand(_ x: Tensor) -> Operand {
        precondition(x.shape == geometry.inputShape && x.layout == .nhwc && x.precision == geometry.inputPrecision,
                     "\(geometry): input \(x)")
        return Operand(x, from: src, to: srcOperand)
    }
}

/// The kernel for `g`: tap by tap for the widely dilated convolutions `TapConvolution` takes,
/// else oneDNN's direct convolution.
func convolutionAlgorithm(_ g: ConvGeometry) -> any ConvolutionAlgorithm {
    TapConvolution.get(g) ?? ConvolutionKernel.get(g)
}
