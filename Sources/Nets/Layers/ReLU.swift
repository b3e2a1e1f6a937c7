/// `nn.ReLU(inplace=...)`. In place, the output overwrites the input, as PyTorch's
/// reference UNet does to save one activation per block; that is safe when the layer
/// before keeps only its own input (Conv2d, BatchNorm2d do), not its output.
///
/// `fusedIntoPrevious` marks a ReLU already applied by the BatchNorm before it (see
/// `BatchNorm2d.fusedReLU`): it passes values and gradients through unchanged.
public final class ReLU: Module, Layer {
    public let inplace: Bool
    public let fusedIntoPrevious: Bool
    private var output: Tensor?

    public init(inplace: Bool = false, fusedIntoPrevious: Bool = false) {
        self.inplace = inplace
        self.fusedIntoPrevious = fusedIntoPrevious
    }

    public func forward(_ x: Tensor) -> Tensor {
        if fusedIntoPrevious { return x }
        let y = inplace ? x : Tensor.uninitialized(shape: x.shape, layout: x.layout)
        EltwiseKernel.relu(x, into: y)
        if training { output = y }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        if fusedIntoPrevious { return dy }
        guard let y = output else { preconditionFailure("backward without a training forward") }
        output = nil
        // The incoming gradient is ours alone (each layer returns a fresh one), so it can be overwritten.
        return EltwiseKernel.reluBackward(dy, output: y, inPlace: true)
    }

    public override func clearCache() { output = nil }
}
