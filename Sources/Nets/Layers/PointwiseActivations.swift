import Foundation

/// MobileNetV3's activations and LR-ASPP's gate, as PyTorch defines them:
/// `nn.Hardswish` x·relu6(x + 3)/6, `nn.Hardsigmoid` relu6(x + 3)/6, `nn.Sigmoid` 1/(1 + e^−x).
/// Each keeps its input (Hardswish, Hardsigmoid) or output (Sigmoid) for backward, which uses
/// PyTorch's derivatives at the kinks: Hardswish's is 0 below −3, (2x + 3)/6 up to 3 and 1
/// above; Hardsigmoid's 1/6 strictly between −3 and 3, else 0.
public final class Hardswish: Module, Layer {
    public override init() {}

    public func forward(_ x: Tensor) -> Tensor {
        pointwise(x, { v in v * min(max(v + 3, 0), 6) / 6 },
                  derivative: { v, _ in v < -3 ? 0 : v <= 3 ? (2 * v + 3) / 6 : 1 })
    }
}

public final class Hardsigmoid: Module, Layer {
    public override init() {}

    public func forward(_ x: Tensor) -> Tensor {
        pointwise(x, { v in min(max(v + 3, 0), 6) / 6 }, derivative: { v, _ in v > -3 && v < 3 ? 1 / 6 : 0 })
    }
}

public final class Sigmoid: Module, Layer {
    public override init() {}

    public func forward(_ x: Tensor) -> Tensor {
        pointwise(x, { v in 1 / (1 + exp(-v)) }, derivative: { _, y in y * (1 - y) })
    }
}

/// y = f(x) elementwise, recording dx = dy · f′ (computed from the input and output values).
private func pointwise(_ x: Tensor, _ f: @escaping (Float) -> Float,
                       derivative: @escaping (_ input: Float, _ output: Float) -> Float) -> Tensor {
    let x = x.float32()  // no bf16 kernel
    let y = Tensor.uninitialized(shape: x.shape, layout: x.layout)
    let src = x.data, dst = y.data
    parallelChunks(x.count) { lo, hi in
        for i in lo..<hi { dst[i] = f(src[i]) }
    }
    Tape.op(inputs: [x])?.record(y) { dy in
        let dx = Tensor.uninitialized(shape: x.shape, layout: x.layout)
        let g = dy.data, d = dx.data, input = x.data, output = y.data
        parallelChunks(x.count) { lo, hi in
            for i in lo..<hi { d[i] = g[i] * derivative(input[i], output[i]) }
        }
        return [dx]
    }
    return y
}
