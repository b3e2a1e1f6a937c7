import XCTest
@testable import Nets

/// BatchNorm2d, ReLU and MaxPool2d against their definitions and finite differences.
final class NormPoolActivationTests: XCTestCase {
    /// Distinct values spaced 0.05 apart in shuffled order: no ties for max pooling and
    /// no value within 0.025 of zero for ReLU, so finite differences never cross a kink.
    func spacedTensor(_ shape: [Int], seed: UInt64) -> Tensor {
        let t = Tensor(shape: shape, layout: .nhwc)
        var values = (0..<t.count).map { Float($0 - t.count / 2) * 0.05 + 0.025 }
        var rng = SeededRandom(seed: seed)
        values.shuffle(using: &rng)
        for i in 0..<t.count { t.data[i] = values[i] }
        return t
    }

    func makeBatchNorm(_ c: Int, seed: UInt64) -> BatchNorm2d {
        let bn = BatchNorm2d(c)
        var rng = SeededRandom(seed: seed)
        bn.weight.value.fillUniform(0.5, 1.5, &rng)
        bn.bias.value.fillUniform(-0.5, 0.5, &rng)
        bn.runningMean.value.fillUniform(-0.3, 0.3, &rng)
        bn.runningVar.value.fillUniform(0.5, 2.0, &rng)
        return bn
    }

    func testBatchNormTrainingMatchesDefinitionAndUpdatesRunningStats() {
        let bn = makeBatchNorm(3, seed: 1)
        let rm0 = bn.runningMean.value.array, rv0 = bn.runningVar.value.array
        let x = GradCheck.randomTensor([2, 3, 4, 5], layout: .nhwc, seed: 2, scale: 2)
        let y = bn.forward(x)
        let count = 2 * 4 * 5
        for c in 0..<3 {
            var mean = 0.0, sq = 0.0
            for n in 0..<2 { for i in 0..<4 { for j in 0..<5 { mean += Double(x[n, c, i, j]) } } }
            mean /= Double(count)
            for n in 0..<2 { for i in 0..<4 { for j in 0..<5 { sq += pow(Double(x[n, c, i, j]) - mean, 2) } } }
            let biased = sq / Double(count), unbiased = sq / Double(count - 1)
            let g = Double(bn.weight.value.data[c]), b = Double(bn.bias.value.data[c])
            for n in 0..<2 { for i in 0..<4 { for j in 0..<5 {
                let expected = (Double(x[n, c, i, j]) - mean) / (biased + 1e-5).squareRoot() * g + b
                XCTAssertEqual(Double(y[n, c, i, j]), expected, accuracy: 1e-5)
            } } }
            // PyTorch: running = 0.9·running + 0.1·batch, with the unbiased variance.
            XCTAssertEqual(Double(bn.runningMean.value.data[c]), 0.9 * Double(rm0[c]) + 0.1 * mean, accuracy: 1e-6)
            XCTAssertEqual(Double(bn.runningVar.value.data[c]), 0.9 * Double(rv0[c]) + 0.1 * unbiased, accuracy: 1e-5)
        }
        XCTAssertEqual(bn.numBatchesTracked.value.data[0], 1)
    }

    func testBatchNormEvalUsesRunningStats() {
        let bn = makeBatchNorm(4, seed: 3)
        bn.setTraining(false)
        let x = GradCheck.randomTensor([1, 4, 3, 3], layout: .nhwc, seed: 4)
        let y = bn.forward(x)
        for c in 0..<4 {
            let m = bn.runningMean.value.data[c], v = bn.runningVar.value.data[c]
            let g = bn.weight.value.data[c], b = bn.bias.value.data[c]
            for i in 0..<3 { for j in 0..<3 {
                XCTAssertEqual(y[0, c, i, j], (x[0, c, i, j] - m) / (v + 1e-5).squareRoot() * g + b, accuracy: 1e-5)
            } }
        }
        XCTAssertEqual(bn.numBatchesTracked.value.data[0], 0)
    }

    func testBatchNormGradients() {
        let bn = makeBatchNorm(3, seed: 5)
        GradCheck.checkLayer("batchnorm", bn, input: GradCheck.randomTensor([2, 3, 3, 4], layout: .nhwc, seed: 6))
    }

    func testBatchNormWithFusedReLUEqualsBatchNormThenReLU() {
        let fused = BatchNorm2d(3, fusedReLU: true), plain = makeBatchNorm(3, seed: 12)
        for (a, b) in zip(fused.namedParameters(), plain.namedParameters()) { a.1.value = b.1.value.copy() }
        let x = GradCheck.randomTensor([2, 3, 4, 5], layout: .nhwc, seed: 13)
        let y = fused.forward(x), expected = ReLU().forward(plain.forward(x))
        XCTAssertEqual(y.array, expected.array)
        // Finite differences across the ReLU kink need a small step; eps 1e-3 on this seed stays clear of it.
        GradCheck.checkLayer("batchnorm+relu", fused, input: x, eps: 1e-3, tolerance: 1e-2)
        fused.frozenStatistics = true
        GradCheck.checkLayer("frozen batchnorm+relu", fused, input: x, eps: 1e-3, tolerance: 1e-2)
    }

    /// bf16 BatchNorm in our own passes (C kernels), against Double computed from the same bf16
    /// values: output, running statistics, and the input, shortcut, weight and bias gradients,
    /// with and without the fused ReLU and a residual block's shortcut sum, with the batch's
    /// statistics and frozen ones; 40 channels leave a vector tail.
    func testBF16BatchNormPassesMatchDouble() throws {
        try XCTSkipUnless(VectorKernels.enabled, "this CPU runs oneDNN's BatchNorm for bf16")
        let shape = [2, 40, 5, 7], C = 40, N = 2 * 5 * 7
        func bf16(_ seed: UInt64, scale: Float = 1) -> Tensor {
            GradCheck.randomTensor(shape, layout: .nhwc, seed: seed, scale: scale).converted(to: .bf16)
        }
        func values(_ t: Tensor) -> [Double] { t.converted(to: .fp32).array.map(Double.init) }
        for (relu, residual, frozen) in [(false, false, false), (true, false, false), (false, true, false),
                                         (true, false, true), (false, true, true)] {
            let name = "relu \(relu) shortcut \(residual) frozen \(frozen)"
            let bn = BatchNorm2d(C, fusedReLU: relu)
            var rng = SeededRandom(seed: 30)
            bn.weight.value.fillUniform(0.5, 1.5, &rng)
            bn.bias.value.fillUniform(-0.5, 0.5, &rng)
            bn.runningVar.value.fillUniform(0.5, 2.0, &rng)
            bn.frozenStatistics = frozen
            let (running0, runningVar0) = (bn.runningMean.value.array, bn.runningVar.value.array)
            let x = bf16(31, scale: 2), shortcut = bf16(32), g = bf16(33)
            let tape = Tape()
            tape.watch(x)
            tape.watch(shortcut)
            let y = tape.record { residual ? bn.addingReLU(x, shortcut: shortcut) : bn.forward(x) }
            tape.backward([(y, g)])
            let (xs, ss, gs) = (values(x), values(shortcut), values(g))
            var ref = [Double](repeating: 0, count: xs.count), dxRef = ref, dsRef = ref
            for c in 0..<C {
                let column = (0..<N).map { xs[$0 * C + c] }
                let batchMean = column.reduce(0, +) / Double(N)
                let batchVar = column.map { ($0 - batchMean) * ($0 - batchMean) }.reduce(0, +) / Double(N)
                let (m, v) = frozen ? (Double(running0[c]), Double(runningVar0[c])) : (batchMean, batchVar)
                let gamma = Double(bn.weight.value.data[c]), beta = Double(bn.bias.value.data[c])
                let rstd = 1 / (v + 1e-5).squareRoot()
                var dyMasked = [Double](repeating: 0, count: N), sumDy = 0.0, sumDyXhat = 0.0
                for p in 0..<N {
                    let i = p * C + c, xhat = (xs[i] - m) * rstd
                    let pre = xhat * gamma + beta + (residual ? ss[i] : 0)
                    ref[i] = relu || residual ? max(pre, 0) : pre
                    dyMasked[p] = (relu || residual) && !(pre > 0) ? 0 : gs[i]
                    dsRef[i] = dyMasked[p]
                    sumDy += dyMasked[p]
                    sumDyXhat += dyMasked[p] * xhat
                }
                for p in 0..<N {
                    let i = p * C + c, xhat = (xs[i] - m) * rstd
                    dxRef[i] = frozen ? gamma * rstd * dyMasked[p]
                        : gamma * rstd * (dyMasked[p] - sumDy / Double(N) - xhat * sumDyXhat / Double(N))
                }
                XCTAssertEqual(Double(bn.bias.grad!.data[c]), sumDy, accuracy: 1e-4 * max(1, abs(sumDy)), name)
                XCTAssertEqual(Double(bn.weight.grad!.data[c]), sumDyXhat, accuracy: 1e-4 * max(1, abs(sumDyXhat)), name)
                if !frozen {
                    XCTAssertEqual(Double(bn.runningMean.value.data[c]), 0.9 * Double(running0[c]) + 0.1 * batchMean,
                                   accuracy: 1e-6, name)
                    XCTAssertEqual(Double(bn.runningVar.value.data[c]),
                                   0.9 * Double(runningVar0[c]) + 0.1 * batchVar * Double(N) / Double(N - 1),
                                   accuracy: 1e-5, name)
                }
            }
            func relative(_ a: Tensor, _ b: [Double]) -> Double {
                let a = values(a)
                let diff = zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +), norm = b.map { $0 * $0 }.reduce(0, +)
                return (diff / max(norm, 1e-30)).squareRoot()
            }
            XCTAssertEqual(y.precision, .bf16, name)
            XCTAssertLessThan(relative(y, ref), 4e-3, name)
            XCTAssertLessThan(relative(tape.gradient(of: x)!, dxRef), 4e-3, name)
            if residual { XCTAssertLessThan(relative(tape.gradient(of: shortcut)!, dsRef), 4e-3, name) }
        }
    }

    func testFrozenBatchNormKeepsRunningStatsAndStillPassesGradients() {
        let bn = makeBatchNorm(3, seed: 7)
        bn.frozenStatistics = true
        bn.weight.trainable = false
        bn.bias.trainable = false
        let before = bn.runningMean.value.array + bn.runningVar.value.array
        GradCheck.checkLayer("frozen batchnorm", bn, input: GradCheck.randomTensor([2, 3, 3, 4], layout: .nhwc, seed: 8))
        XCTAssertEqual(bn.runningMean.value.array + bn.runningVar.value.array, before)
        XCTAssertNil(bn.weight.grad)
        XCTAssertEqual(bn.numBatchesTracked.value.data[0], 0)
    }

    func testReLU() {
        for inplace in [false, true] {
            let x = spacedTensor([2, 3, 4, 5], seed: 9)
            let original = x.copy()
            let y = ReLU(inplace: inplace).forward(x)
            for i in 0..<x.count { XCTAssertEqual(y.data[i], max(original.data[i], 0)) }
            if inplace { XCTAssertTrue(x === y) } else { XCTAssertEqual(x.array, original.array) }
        }
        GradCheck.checkLayer("relu", ReLU(), input: spacedTensor([2, 3, 4, 5], seed: 10), eps: 1e-3)
    }

    func testMaxPoolMatchesDefinitionOnOddSizes() {
        for (h, w, k, s, p) in [(5, 7, 2, 2, 0), (6, 6, 3, 2, 1), (4, 9, 2, 1, 0)] {
            let x = spacedTensor([2, 3, h, w], seed: UInt64(h * w))
            let y = MaxPool2d(kernelSize: k, stride: s, padding: p).forward(x)
            let oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1
            XCTAssertEqual(y.shape, [2, 3, oh, ow])
            for n in 0..<2 { for c in 0..<3 { for i in 0..<oh { for j in 0..<ow {
                var m = -Float.infinity
                for a in 0..<k { for b in 0..<k {
                    let yy = i * s - p + a, xx = j * s - p + b
                    if yy >= 0 && yy < h && xx >= 0 && xx < w { m = max(m, x[n, c, yy, xx]) }
                } }
                XCTAssertEqual(y[n, c, i, j], m)
            } } } }
            GradCheck.checkLayer("maxpool \(h)x\(w)", MaxPool2d(kernelSize: k, stride: s, padding: p),
                                 input: spacedTensor([2, 3, h, w], seed: 11), eps: 1e-3)
        }
    }
}
