/// `nn.MaxPool2d(kernel_size, stride=kernel_size, padding=0)` in floor mode.
public final class MaxPool2d: Module, Layer {
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        precondition(kernelSize > 0 && padding >= 0 && padding * 2 <= kernelSize)
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    public func forward(_ x: Tensor) -> Tensor {
        let g = PoolingKernel.Geometry(shape: x.shape, kernel: kernelSize, stride: stride, padding: padding,
                                       precision: x.precision)
        precondition(g.outHeight > 0 && g.outWidth > 0, "MaxPool2d(\(kernelSize)): input \(x.shape) too small")
        let (y, workspace) = PoolingKernel.forward(x, g)
        // The workspace records where each maximum was; backward scatters the gradient there.
        Tape.op(inputs: [x])?.record(y) { dy in [PoolingKernel.backward(dy, workspace: workspace, g)] }
        return y
    }
}
