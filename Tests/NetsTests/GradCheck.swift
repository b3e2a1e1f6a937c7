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

    /// ‖a − b‖ / ‖b‖ over all elements (same layout), both read as fp32 (bf16 results compared with fp32 ones).
    static func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
        let a = a.converted(to: .fp32), b = b.converted(to: .fp32)
        precondition(a.count == b.count && a.layout == b.layout)
        var diff = 0.0, norm = 0.0
        for i in 0..<a.count {
            diff += pow(Double(a.data[i]) - Double(b.data[i]), 2)
            norm += pow(Double(b.data[i]), 2)
        }
        return (diff / max(norm, 1e-30)).squareRoot()
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

    /// The gradients of L = ⟨f(x), g⟩ by the tape: f's input gradient (nil when nothing reached
    /// it) after accumulating every trainable parameter's into `Parameter.grad`.
    static func backward(_ x: Tensor, _ g: Tensor, _ f: (Tensor) -> Tensor) -> Tensor? {
        let tape = Tape()
        tape.watch(x)
        let y = tape.record { f(x) }
        tape.backward([(y, g)])
        return tape.gradient(of: x)
    }

    /// How many ops `body` records: none for a part of a model that is frozen and fed by nothing that learns.
    static func recordedOps(_ body: () -> Void) -> Int {
        let tape = Tape()
        tape.record(body)
        return tape.recordedCount
    }

    /// A recorded forward of `model` on `x`, then backward with each output as its own gradient
    /// (L = ½ Σ‖output‖² over the main, deep-supervision and aux logits): the outputs and the input gradient (nil when nothing reached it,
    /// or when the input is not `watched`, as in training, where frozen layers then record nothing).
    @discardableResult
    static func backwardThrough(_ model: any SegmentationModel, _ x: Tensor,
                                watched: Bool = true) -> (output: SegmentationOutput, input: Tensor?) {
        let tape = Tape()
        if watched { tape.watch(x) }
        let output = tape.record { model(x) }
        let outputs = [output.out] + output.deepSupervision + (output.aux.map { [$0] } ?? [])
        tape.backward(outputs.map { ($0, $0) })
        return (output, tape.gradient(of: x))
    }

    /// Checks a layer's input gradient and every trainable parameter's gradient.
    static func checkLayer(_ name: String, _ layer: any Layer, input x: Tensor, eps: Float = 1e-2,
                           tolerance: Double = 5e-3, seed: UInt64 = 99,
                           file: StaticString = #filePath, line: UInt = #line) {
        layer.zeroGrad()
        let y = layer.forward(x)
        let g = randomTensor(y.shape, layout: y.layout, seed: seed)
        guard let dx = backward(x, g, { layer.forward($0) }) else {
            XCTFail("\(name): no input gradient", file: file, line: line); return
        }
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
