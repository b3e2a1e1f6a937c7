/// `nn.ReLU(inplace=...)`. In place, the output overwrites the input, as PyTorch's
/// reference UNet does to save one activation per block; that is safe when the op before
/// keeps only its own input for backward (Conv2d, BatchNorm2d do), not its output.
///
/// `fusedIntoPrevious` marks a ReLU already applied by the BatchNorm before it (see
/// `BatchNorm2d.fusedReLU`): it passes its input through unchanged.
public final class ReLU: Module, Layer {
    public let inplace: Bool
    public let fusedIntoPrevious: Bool

    public init(inplace: Bool = false, fusedIntoPrevious: Bool = false) {
        self.inplace = inplace
        self.fusedIntoPrevious = fusedIntoPrevious
    }

    public func forward(_ x: Tensor) -> Tensor {
        if fusedIntoPrevious { return x }
        let op = Tape.op(inputs: [x])
        let y = inplace ? x : Tensor.uninitialized(shape: x.shape, layout: x.layout, precision: x.precision)
        EltwiseKernel.relu(x, into: y)
        // The mask is read from the output, so nothing else is kept; the gradient is masked in place.
        op?.record(y, consumesGradient: true) { dy in [EltwiseKernel.reluBackward(dy, output: y, inPlace: true)] }
        return y
    }
}
