import CKernels

/// BatchNorm in passes of our own over bf16 NHWC activations, where the C kernels run: the
/// statistics (`channelStatistics`, each input read from memory once), the normalisation fused
/// with the ReLU after it and with a residual block's shortcut sum before that (its normalised
/// activation never written), and the backward, which recomputes the ReLU's mask from the
/// input instead of storing a workspace.
///
/// oneDNN's BatchNorm (`BatchNormKernel`) moved ~23 GB/s over FCN-ResNet50's bf16 activations
/// on 2 cores and read each input twice for its statistics. It still runs for fp32, whose
/// results thereby stay those of the PyTorch fixtures: a ResNet-50 fixture's BatchNorms over 60
/// values flip a ReLU 5e-5 from its kink with any other rounding.
enum BatchNormPasses {
    /// Whether these passes run for `x`: bf16 NHWC on a CPU with the kernels.
    static func runs(_ x: Tensor) -> Bool {
        x.precision == .bf16 && x.layout == .nhwc && x.shape.count == 4 && VectorKernels.enabled
    }

    /// (x − mean)·scale + shift, plus `shortcut` where given, then with `relu` max(·, 0), per
    /// channel; computed in fp32 and rounded once. `scale` is γ/√(var + eps).
    static func normalize(_ x: Tensor, mean: Tensor, scale: [Float], shift: Tensor, shortcut: Tensor?,
                          relu: Bool) -> Tensor {
        precondition(runs(x) && shortcut.map { $0.shape == x.shape && $0.layout == x.layout && $0.precision == x.precision }
                     ?? true, "BatchNorm of \(x) + \(shortcut.map { "\($0)" } ?? "")")
        let out = Tensor.uninitialized(shape: x.shape, layout: x.layout, precision: x.precision)
        let C = x.c, pixels = x.count / max(C, 1), p = x.bf16, q = shortcut?.bf16, o = out.bf16
        parallelChunks(pixels, minChunk: rowsPerChunk(C)) { lo, hi in
            rx_normalize_bf16(p + lo * C, q.map { $0 + lo * C }, o + lo * C, mean.data, scale, shift.data, C, hi - lo,
                              relu ? 1 : 0)
        }
        return out
    }

    /// (dx, dγ, dβ) of y = relu?((x − mean)·scale + β), scale = γ/√(var + eps) as `normalize`
    /// was given it (the ReLU's mask is recomputed with it): one pass for
    /// the sums Σdy and Σdy·(x − mean) (blocks in cache, added in Double in block order), one
    /// for dx. With `batchStatistics` the mean and variance were the batch's own, and dx carries
    /// their dependence on x.
    static func backward(_ dy: Tensor, x: Tensor, mean: Tensor, variance: Tensor, weight: Tensor, scale: [Float],
                         shift: Tensor, eps: Float, relu: Bool, batchStatistics: Bool)
        -> (dx: Tensor, dweight: Tensor, dshift: Tensor) {
        precondition(runs(x) && dy.shape == x.shape && dy.layout == x.layout && dy.precision == x.precision,
                     "BatchNorm backward: gradient \(dy) for \(x)")
        let C = x.c, pixels = x.count / max(C, 1), n = Double(pixels)
        let rstd = (0..<C).map { 1 / (Double(variance.data[$0]) + Double(eps)).squareRoot() }
        let sums = scale.withUnsafeBufferPointer { s in
            pixelSums(pixels, width: 2 * C, block: reductionBlock(pixels)) { lo, hi, out in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * C) { scratch in
                    rx_channel_sums_bf16(x.bf16 + lo * C, mean.data, dy.bf16 + lo * C, s.baseAddress!, shift.data,
                                         relu ? 1 : 0, C, hi - lo, scratch.baseAddress!, out, out + C)
                }
            }
        }
        let dweight = Tensor(shape: [C]), dshift = Tensor(shape: [C])
        var a = [Float](repeating: 0, count: C), b = a, c = a
        for k in 0..<C {
            let g = Double(weight.data[k]), r = rstd[k]
            dweight.data[k] = Float(sums[C + k] * r)
            dshift.data[k] = Float(sums[k])
            a[k] = Float(g * r)
            if batchStatistics {
                b[k] = Float(-g * r * r * r * sums[C + k] / n)
                c[k] = Float(-g * r * sums[k] / n)
            }
        }
        let dx = Tensor.uninitialized(shape: x.shape, layout: x.layout, precision: x.precision)
        parallelChunks(pixels, minChunk: rowsPerChunk(C)) { lo, hi in
            rx_batchnorm_backward_bf16(x.bf16 + lo * C, dy.bf16 + lo * C, dx.bf16 + lo * C, mean.data, scale, shift.data,
                                       a, b, c, C, hi - lo, relu ? 1 : 0)
        }
        return (dx, dweight, dshift)
    }
}
