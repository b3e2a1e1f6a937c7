import CKernels

/// The mean and biased variance of each channel of a bf16 NHWC activation over its batch and
/// pixels, for `BatchNormPasses`, read from memory once.
///
/// Each channel is read shifted by its value at the first pixel, k, so that the variance is
/// E[(x−k)²] − E[x−k]² with k within a few deviations of the mean, which does not cancel the
/// way E[x²] − E[x]² does: within ~1e-6 relative of two passes in Double, far below bf16's
/// 4e-3. The kernel sums sub-blocks of pixels in fp32 and adds them into Double; blocks of
/// them go to the threads, their sums added in block order: the same bits whatever the thread
/// count.
func channelStatistics(_ x: Tensor) -> (mean: Tensor, variance: Tensor) {
    precondition(BatchNormPasses.runs(x), "channel statistics of \(x)")
    let C = x.c, pixels = x.count / max(C, 1)
    let mean = Tensor(shape: [C]), variance = Tensor(shape: [C])
    guard pixels > 0 else { return (mean, variance) }
    let shift = (0..<C).map { widen(x.bf16[$0]) }
    let sums = shift.withUnsafeBufferPointer { shift in
        pixelSums(pixels, width: 2 * C, block: reductionBlock(pixels)) { lo, hi, out in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * C) { scratch in
                rx_channel_sums_bf16(x.bf16 + lo * C, shift.baseAddress!, nil, nil, nil, 0, C, hi - lo, scratch.baseAddress!,
                                     out, out + C)
            }
        }
    }
    for c in 0..<C {
        let m = sums[c] / Double(pixels)
        mean.data[c] = Float(Double(shift[c]) + m)
        variance.data[c] = Float(max(sums[C + c] / Double(pixels) - m * m, 0))
    }
    return (mean, variance)
}

/// Pixels per block of a per-channel reduction: sixteen blocks or fewer (their partial sums,
/// two Doubles per channel each, stay small), fixed by the pixel count alone.
func reductionBlock(_ pixels: Int) -> Int { max(256, (pixels + 15) / 16) }
