import XCTest
@testable import Nets

/// The tape's own rules: gradients summed where a tensor feeds several ops, never corrupted by a
/// gradient tensor shared between two inputs, nothing recorded for what needs no gradient, and
/// every kept activation released whether or not backward runs.
final class TapeTests: XCTestCase {
    private func random(_ seed: UInt64) -> Tensor { GradCheck.randomTensor([2, 3, 4, 5], layout: .nhwc, seed: seed) }

    /// `add` hands one gradient tensor to both inputs; `a`'s ReLU then masks its gradient in
    /// place. The tape gives the ReLU a copy, so `b` still gets the unmasked gradient.
    func testInPlaceConsumerDoesNotCorruptASharedGradient() {
        let a = random(1), b = random(2), g = random(3)
        let tape = Tape()
        tape.watch(a)
        tape.watch(b)
        let y = tape.record { add(ReLU()(a), b) }
        tape.backward([(y, g)])
        XCTAssertEqual(tape.gradient(of: b)?.array, g.array)
        let da = tape.gradient(of: a)!
        for i in 0..<a.count { XCTAssertEqual(da.data[i], a.data[i] > 0 ? g.data[i] : 0) }
    }

    /// (a + b) + b: `b`'s gradient is the sum of two contributions, one of them the very tensor
    /// that is also `a`'s gradient; summing into it in place would double `a`'s too.
    func testAccumulationIntoASharedGradientCopies() {
        let a = random(4), b = random(5), g = random(6)
        let tape = Tape()
        tape.watch(a)
        tape.watch(b)
        let y = tape.record { add(add(a, b), b) }
        tape.backward([(y, g)])
        XCTAssertEqual(tape.gradient(of: a)?.array, g.array)
        XCTAssertEqual(tape.gradient(of: b)?.array, g.array.map { 2 * $0 })
        XCTAssertEqual(g.array, random(6).array, "the caller's gradient is left as it was")
    }

    /// One module called twice in a forward (no per-module caches): each call's backward uses
    /// its own input, and the weight gradient is the sum of both.
    func testAModuleCanRunTwiceInOneForward() {
        var rng = SeededRandom(seed: 7)
        let conv = Conv2d(3, 3, kernelSize: 3, padding: 1, rng: &rng)
        let x = random(8), g = random(9)
        conv.zeroGrad()
        let dx = GradCheck.backward(x, g) { conv(conv($0)) }!
        let loss = { GradCheck.dot(conv(conv(x)), g) }
        GradCheck.check("conv∘conv input", x: x, analytic: dx, loss: loss)
        GradCheck.check("conv∘conv weight", x: conv.weight.value, analytic: conv.weight.grad!, loss: loss)
    }

    /// Nothing is recorded without a tape, for inputs without gradients through frozen layers,
    /// or for ops without parameters on such inputs; a learning op after them is recorded and
    /// computes no input gradient.
    func testRecordsOnlyWhatNeedsAGradient() {
        var rng = SeededRandom(seed: 10)
        let frozen = Conv2d(3, 3, kernelSize: 1, rng: &rng), learning = Conv2d(3, 3, kernelSize: 1, rng: &rng)
        frozen.freeze(["weight", "bias"])
        let x = random(11)
        XCTAssertEqual(GradCheck.recordedOps { _ = ReLU()(frozen(x)) }, 0)
        XCTAssertEqual(GradCheck.recordedOps { _ = learning(ReLU()(frozen(x))) }, 1)
        XCTAssertFalse(Tape.isRecording)
        let tape = Tape()
        let y = tape.record { learning(frozen(x)) }
        tape.backward([(y, random(12))])
        XCTAssertNotNil(learning.weight.grad)
        XCTAssertNil(frozen.weight.grad)
    }

    /// What backward needs (here an in-place ReLU's output, which refers back to its own node)
    /// is freed after backward, and also when the tape is dropped without one (a non-finite loss).
    func testKeptActivationsAreReleased() {
        var rng = SeededRandom(seed: 13)
        let conv = Conv2d(3, 8, kernelSize: 3, padding: 1, rng: &rng)
        let x = GradCheck.randomTensor([2, 3, 32, 32], layout: .nhwc, seed: 14)
        let before = MemoryStats.liveTensorBytes
        for runsBackward in [true, false] {
            do {
                let tape = Tape()
                let y = tape.record { ReLU(inplace: true)(conv(x)) }
                if runsBackward { tape.backward([(y, y.copy())]) }
            }
            conv.zeroGrad()
            XCTAssertEqual(MemoryStats.liveTensorBytes, before, "backward ran: \(runsBackward)")
        }
    }
}
