#include "BatchNorm.h"
#include "avx512.h"

// The mask of the first `n` of 16 lanes.
static inline __mmask16 lanes(long n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1); }

AVX512 static inline __m512 widen(__mmask16 m, const uint16_t *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}

AVX512 static inline __m256i narrow(__m512 v) { return (__m256i)_mm512_cvtneps_pbh(v); }

AVX512 static inline __m512 load(__mmask16 m, const float *p) { return _mm512_maskz_loadu_ps(m, p); }

// Lanes where the forward's normalised value v = (x − mean)·scale + shift kept its sign (v > 0
// or NaN: max(v, 0) left it), from x − mean.
AVX512 static inline __mmask16 passed(__m512 centred, __m512 scale, __m512 shift) {
    __m512 v = _mm512_add_ps(_mm512_mul_ps(centred, scale), shift);
    return _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NLE_UQ);
}

// The sums go in sub-blocks of rows, in fp32 in row order, each sub-block's sums then added
// into Double ones: few blocks per call (the caller's partial sums stay small) and fp32 sums
// never longer than a sub-block. Rows are read in memory order, the sums kept in the scratch
// arrays (in L1): going down a column of rows instead, at 2048 channels each row a new 4 KiB
// page, which the prefetcher does not follow, streamed at 21 GB/s.
static inline long subBlock(long channels) { long rows = (512 << 10) / (channels * 2); return rows < 8 ? 8 : rows; }

AVX512 void rx_channel_sums_bf16(const uint16_t *x, const float *offset, const uint16_t *dy, const float *scale,
                                 const float *shift, int relu, long channels, long pixels, float *scratch,
                                 double *sumU, double *sumUW) {
    float *u1 = scratch, *uw = scratch + channels;
    for (long lo = 0; lo < pixels; lo += subBlock(channels)) {
        long hi = lo + subBlock(channels) < pixels ? lo + subBlock(channels) : pixels;
        for (long c = 0; c < channels; c += 16) {
            __mmask16 m = lanes(channels - c);
            _mm512_mask_storeu_ps(u1 + c, m, _mm512_setzero_ps());
            _mm512_mask_storeu_ps(uw + c, m, _mm512_setzero_ps());
        }
        for (long p = lo; p < hi; p++)
            for (long c = 0; c < channels; c += 16) {
                __mmask16 m = lanes(channels - c);
                long i = p * channels + c;
                __m512 w = _mm512_sub_ps(widen(m, x + i), load(m, offset + c)), u = w;
                if (dy) {
                    u = widen(m, dy + i);
                    if (relu) u = _mm512_maskz_mov_ps(passed(w, load(m, scale + c), load(m, shift + c)), u);
                }
                _mm512_mask_storeu_ps(u1 + c, m, _mm512_add_ps(load(m, u1 + c), u));
                _mm512_mask_storeu_ps(uw + c, m, _mm512_add_ps(load(m, uw + c), _mm512_mul_ps(u, w)));
            }
        for (long c = 0; c < channels; c++) {
            sumU[c] += u1[c];
            sumUW[c] += uw[c];
        }
    }
}

AVX512 void rx_normalize_bf16(const uint16_t *x, const uint16_t *shortcut, uint16_t *out, const float *mean,
                              const float *scale, const float *shift, long channels, long pixels, int relu) {
    for (long p = 0; p < pixels; p++) {
        long row = p * channels;
        for (long c = 0; c < channels; c += 16) {
            __mmask16 m = lanes(channels - c);
            __m512 v = _mm512_mul_ps(_mm512_sub_ps(widen(m, x + row + c), load(m, mean + c)), load(m, scale + c));
            v = _mm512_add_ps(v, load(m, shift + c));
            if (shortcut) v = _mm512_add_ps(v, widen(m, shortcut + row + c));
            if (relu) v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NLE_UQ), v);
            _mm256_mask_storeu_epi16(out + row + c, m, narrow(v));
        }
    }
}

AVX512 void rx_batchnorm_backward_bf16(const uint16_t *x, const uint16_t *dy, uint16_t *dx, const float *mean,
                                       const float *scale, const float *shift, const float *a, const float *b,
                                       const float *c, long channels, long pixels, int relu) {
    for (long p = 0; p < pixels; p++) {
        long row = p * channels;
        for (long k = 0; k < channels; k += 16) {
            __mmask16 m = lanes(channels - k);
            __m512 centred = _mm512_sub_ps(widen(m, x + row + k), load(m, mean + k)), g = widen(m, dy + row + k);
            if (relu) g = _mm512_maskz_mov_ps(passed(centred, load(m, scale + k), load(m, shift + k)), g);
            __m512 v = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(load(m, a + k), g), _mm512_mul_ps(load(m, b + k), centred)),
                                     load(m, c + k));
            _mm256_mask_storeu_epi16(dx + row + k, m, narrow(v));
        }
    }
}

AVX512 void rx_masked_sum_bf16(uint16_t *g, const uint16_t *h, const uint16_t *output, long count) {
    const __m512 zero = _mm512_setzero_ps();
    for (long i = 0; i < count; i += 16) {
        __mmask16 m = lanes(count - i);
        __mmask16 positive = _mm512_cmp_ps_mask(widen(m, output + i), zero, _CMP_GT_OQ);
        __m256i v = h ? narrow(_mm512_add_ps(widen(m, g + i), widen(m, h + i))) : _mm256_maskz_loadu_epi16(m, g + i);
        _mm256_mask_storeu_epi16(g + i, m, _mm256_maskz_mov_epi16(positive, v));
    }
}
