import XCTest
@testable import Nets

/// Finite-difference gradient checking shared by the layer and loss tests.
///
/// The scalar under test is L = Σ f(x)·g for a fixed random g, evaluated in Double.
/// Central differences with step `eps` on Float32 inputs are accurate to roughly
/// eps² (truncation) + 1e-7/eps (rounding), so eps = 1e-2 and a tolerance of
/// a few 1e-3 relative to the gradient's scale separate a right backward from a
/// wrong one (a wrong one is off by O(1)).
enum GradCheck {
    static func randomTensor(_ shape: [Int], layout: Layout = .plain, seed: UInt64, scale: Float = 1) -> Tensor {
        var rng = SeededRandom(seed: seed)
        let t = Tensor(shape: shape, layout: layout)
        for i in 0..<t.count { t.data[i] = scale * rng.uniform(-1, 1) }
        return t
    }

    static func dot(_ a: Tensor, _ b: Tensor) -> Double {
        precondition(a.count == b.count && a.layout == b.layout)
        var s = 0.0
        for i in 0..<a.count { s += Double(a.data[i]) * Double(b.data[i]) }
        return s
    }

    /// Compares `analytic` with central differences of `loss` with respect to `x`, at up to `samples` positions.
    static func check(_ name: String, x: Tensor, analytic: Tensor, eps: Float = 1e-2, tolerance: Double = 5e-3,
                      samples: Int = 40, loss: () -> Double, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(x.count, analytic.count, "\(name): gradient has the wrong size", file: file, line: line)
        var scale = 1e-3
        for i in 0..<analytic.count { scale = max(scale, abs(Double(analytic.data[i]))) }
        let stride = max(1, x.count / samples)
        var worst = 0.0
        var i = 0
        while i < x.count {
            let saved = x.data[i]
            x.data[i] = saved + eps
            let up = loss()
            x.data[i] = saved - eps
            let down = loss()
            x.data[i] = saved
            let numeric = (up - down) / (2 * Double(eps))
            let err = abs(numeric - Double(analytic.data[i])) / scale
            worst = max(worst, err)
            if err > tolerance {
                XCTFail("\(name)[\(i)]: analytic \(analytic.data[i]) vs numeric \(numeric) (relative error \(err))",
                        file: file, line: line)
                return
            }
            i += stride
        }
    }

    /// Checks a layer's input gradient and every trainable parameter's gradient.
    static func checkLayer(_ name: String, _ layer: any Layer, input x: Tensor, eps: Float = 1e-2,
                           tolerance: Double = 5e-3, seed: UInt64 = 99,
                           file: StaticString = #filePath, line: UInt = #line) {
        layer.zeroGrad()
        let y = layer.forward(x)
        let g = randomTensor(y.shape, layout: y.layout, seed: seed)
        let dx = layer.backward(g)
        let loss = { () -> Double in dot(layer.forward(x), g) }
        check("\(name) input", x: x, analytic: dx, eps: eps, tolerance: tolerance, loss: loss, file: file, line: line)
        for (key, p) in layer.namedParameters() where p.needsGrad {
            guard let grad = p.grad else {
                XCTFail("\(name): no gradient for \(key)", file: file, line: line); continue
            }
            check("\(name) \(key)", x: p.value, analytic: grad, eps: eps, tolerance: tolerance, loss: loss,
                  file: file, line: line)
        }
    }
}
