// A BatchNorm's passes over bf16 NHWC activations, sixteen channels to a vector: its batch
// statistics, its normalisation (with the ReLU after it, and a residual block's shortcut sum
// before that), its backward (the ReLU's mask recomputed from the input, not stored), and the
// masked gradient sum of a residual block's closing ReLU. Computed in fp32, rounded to nearest
// even with the CPU's conversion: the same bits as the portable Swift loops in Nets where
// those exist (elsewhere oneDNN's BatchNorm runs instead).
#include <stdint.h>

/// Adds, for each of `channels`, over `pixels` rows, Σu into `sumU` and Σu·w into `sumUW`,
/// where w = x − offset and u = w without `dy` (the statistics: Σd, Σd²), else u = dy, masked
/// with `relu` where the forward's w·scale + shift was not positive (backward's Σdy and
/// Σdy·(x − mean)). `scratch` holds 2·channels floats.
void rx_channel_sums_bf16(const uint16_t *x, const float *offset, const uint16_t *dy, const float *scale,
                          const float *shift, int relu, long channels, long pixels, float *scratch, double *sumU,
                          double *sumUW);

/// out ← (x − mean)·scale + shift (+ shortcut where not NULL), then with `relu` max(·, 0)
/// (NaN kept, −0 → +0), over `pixels` rows of `channels` values; mean, scale, shift per channel.
void rx_normalize_bf16(const uint16_t *x, const uint16_t *shortcut, uint16_t *out, const float *mean,
                       const float *scale, const float *shift, long channels, long pixels, int relu);

/// dx ← a·dy + b·(x − mean) + c per channel over `pixels` rows, dy masked as in the sums.
void rx_batchnorm_backward_bf16(const uint16_t *x, const uint16_t *dy, uint16_t *dx, const float *mean,
                                const float *scale, const float *shift, const float *a, const float *b,
                                const float *c, long channels, long pixels, int relu);

/// g ← output > 0 ? g + h : 0 over `count` values, the sum rounded once; with h NULL,
/// g ← output > 0 ? g : 0.
void rx_masked_sum_bf16(uint16_t *g, const uint16_t *h, const uint16_t *output, long count);
