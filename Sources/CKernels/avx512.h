// The instruction sets of the kernels here: AVX-512 with its bf16 conversions, compiled per
// function and used only where `rx_avx512_bf16_supported` says the CPU has them.
#include <immintrin.h>
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
