// Kernels written in C with AVX-512 intrinsics, where neither oneDNN nor Swift's vectoriser
// does well: bf16 weight layouts (BlockedWeights.h) and BatchNorm's passes, fused with what
// surrounds it in a residual block (BatchNorm.h).
#include "BatchNorm.h"
#include "BlockedWeights.h"

/// Whether this CPU runs the kernels (AVX-512 with its bf16 conversions); callers fall back
/// to their own code where it does not.
int rx_avx512_bf16_supported(void);
