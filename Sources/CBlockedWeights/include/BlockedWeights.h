// fp32 convolution weights in PyTorch's layout (O, I, kH, kW) converted to the bf16 layouts
// oneDNN's AMX convolutions read, with AVX-512: the same bits as oneDNN's reorder (both round
// to nearest even with the same instruction) in up to half its time for these layouts,
// whose transposition oneDNN's generic reorder handles slowly (see BlockedWeights.c).
#include <stdint.h>

/// Whether this CPU runs the functions below (AVX-512 with its bf16 conversions).
int rx_blocked_weights_supported(void);

/// To oneDNN's AcdB16b{block}a2b: bf16 pairs of neighbouring input channels, `block` output
/// channels side by side (the forward's weights). `inputs` a multiple of 32, `outputs` of
/// `block`, `block` of 16. Part `part` of `parts` (threads split the work).
void rx_weights_pairing_inputs(const float *src, uint16_t *dst, long outputs, long inputs, long taps, long block,
                               long part, long parts);

/// To oneDNN's BcdA16a{block}b2a: bf16 pairs of neighbouring output channels, `block` input
/// channels side by side (backward data's weights). `outputs` a multiple of 32, `inputs` of
/// `block`, `block` of 16.
void rx_weights_pairing_outputs(const float *src, uint16_t *dst, long outputs, long inputs, long taps, long block,
                                long part, long parts);
