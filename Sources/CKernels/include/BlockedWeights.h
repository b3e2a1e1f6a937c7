// fp32 convolution weights in PyTorch's layout (O, I, kH, kW) converted to the bf16 layouts
// oneDNN's AMX convolutions read, with AVX-512: the same bits as oneDNN's reorder (both round
// to nearest even with the same instruction) in up to half its time for these layouts,
// whose transposition oneDNN's generic reorder handles slowly (see BlockedWeights.c).
#include <stdint.h>

/// To bf16 pairs of neighbouring channels of one dimension, `block` channels of the other side
/// by side: pairing inputs, oneDNN's AcdB16b{block}a2b (the forward's weights); pairing outputs,
/// its BcdA16a{block}b2a (backward data's). The paired channels a multiple of 32, the others of
/// `block`, `block` of 16. Part `part` of `parts` (threads split the work).
void rx_weights_paired(const float *src, uint16_t *dst, long outputs, long inputs, long taps, long block,
                       int pairingOutputs, long part, long parts);
