// oneDNN's C API, seen through one small interface that compiles against both oneDNN 2.x
// (Debian's libdnnl-dev, the default) and 3.x (`make ONEDNN=pypi`), so the Swift kernels
// never branch on the version. 3.0 replaced operation descriptors with one
// `*_primitive_desc_create` call per primitive and made memory descriptors opaque, heap
// objects; here a memory descriptor is always an owned `rx_md` handle, created, cloned and
// destroyed through these functions.
//
// Plus the two OpenMP calls we need to honour --threads: both builds use the OpenMP runtime
// (libgomp), so the thread count oneDNN uses is OpenMP's. omp.h lives in gcc's private include
// folder, which clang does not search, hence the plain declarations.
#include <dnnl.h>
#include <dnnl_debug.h>
#include <stdlib.h>
#include <string.h>
void omp_set_num_threads(int);
int omp_get_max_threads(void);

typedef struct rx_md_opaque *rx_md;

#if DNNL_VERSION_MAJOR >= 3
#define RX_MD(md) ((const_dnnl_memory_desc_t)(md))
#else
#define RX_MD(md) ((const dnnl_memory_desc_t *)(md))
#endif

// MARK: Primitive attributes

/// The attributes of every primitive made here: its scratchpad comes from the caller
/// (`DNNL_ARG_SCRATCHPAD`, of `dnnl_query_scratchpad_md`'s size), so that the tensor pool
/// reuses freed activations for it instead of oneDNN keeping its own buffer at the largest
/// size any primitive ever needed. Made once (a racing second is dropped).
static inline const_dnnl_primitive_attr_t rx_attr(void) {
    static dnnl_primitive_attr_t shared = NULL;
    dnnl_primitive_attr_t current = __atomic_load_n(&shared, __ATOMIC_ACQUIRE);
    if (current) return current;
    dnnl_primitive_attr_t made = NULL;
    dnnl_primitive_attr_create(&made);
    dnnl_primitive_attr_set_scratchpad_mode(made, dnnl_scratchpad_mode_user);
    if (__atomic_compare_exchange_n(&shared, &current, made, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return made;
    dnnl_primitive_attr_destroy(made);
    return current;
}

// MARK: Memory descriptors

/// A descriptor of `dims` in format `tag`, or NULL where oneDNN refuses it.
static inline rx_md rx_md_create(int ndims, const int64_t *dims, dnnl_data_type_t type, dnnl_format_tag_t tag) {
#if DNNL_VERSION_MAJOR >= 3
    dnnl_memory_desc_t md = NULL;
    if (dnnl_memory_desc_create_with_tag(&md, ndims, dims, type, tag) != dnnl_success) return NULL;
    return (rx_md)md;
#else
    dnnl_memory_desc_t *md = malloc(sizeof *md);
    if (!md || dnnl_memory_desc_init_by_tag(md, ndims, dims, type, tag) != dnnl_success) { free(md); return NULL; }
    return (rx_md)md;
#endif
}

/* A descriptor with explicit strides (in elements): a slice of a larger tensor. */
static inline rx_md rx_md_create_strided(int ndims, const int64_t *dims, dnnl_data_type_t type, const int64_t *strides) {
#if DNNL_VERSION_MAJOR >= 3
    dnnl_memory_desc_t md = NULL;
    if (dnnl_memory_desc_create_with_strides(&md, ndims, dims, type, strides) != dnnl_success) return NULL;
    return (rx_md)md;
#else
    dnnl_memory_desc_t *md = malloc(sizeof *md);
    if (!md || dnnl_memory_desc_init_by_strides(md, ndims, dims, type, strides) != dnnl_success) { free(md); return NULL; }
    return (rx_md)md;
#endif
}

static inline rx_md rx_md_clone(rx_md md) {
#if DNNL_VERSION_MAJOR >= 3
    dnnl_memory_desc_t copy = NULL;
    if (dnnl_memory_desc_clone(&copy, RX_MD(md)) != dnnl_success) return NULL;
    return (rx_md)copy;
#else
    dnnl_memory_desc_t *copy = malloc(sizeof *copy);
    if (copy) memcpy(copy, md, sizeof *copy);
    return (rx_md)copy;
#endif
}

static inline void rx_md_destroy(rx_md md) {
#if DNNL_VERSION_MAJOR >= 3
    dnnl_memory_desc_destroy((dnnl_memory_desc_t)md);
#else
    free(md);
#endif
}

static inline size_t rx_md_size(rx_md md) { return dnnl_memory_desc_get_size(RX_MD(md)); }
static inline int rx_md_equal(rx_md a, rx_md b) { return dnnl_memory_desc_equal(RX_MD(a), RX_MD(b)); }

static inline uint64_t rx_fnv(uint64_t h, const void *bytes, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ ((const unsigned char *)bytes)[i]) * 0x100000001b3ULL;
    return h;
}

/// A hash of everything that makes a format: equal descriptors hash equal (cache keys).
static inline uint64_t rx_md_hash(rx_md md) {
    uint64_t h = 0xcbf29ce484222325ULL;
#if DNNL_VERSION_MAJOR >= 3
    int32_t ndims = 0, nblks = 0;
    dnnl_data_type_t type = dnnl_data_type_undef;
    dnnl_format_kind_t kind = dnnl_format_kind_undef;
    const dnnl_dims_t *dims = NULL, *padded = NULL, *strides = NULL, *blks = NULL, *idxs = NULL;
    dnnl_memory_desc_query(RX_MD(md), dnnl_query_ndims_s32, &ndims);
    dnnl_memory_desc_query(RX_MD(md), dnnl_query_data_type, &type);
    dnnl_memory_desc_query(RX_MD(md), dnnl_query_format_kind, &kind);
    h = rx_fnv(h, &ndims, sizeof ndims);
    h = rx_fnv(h, &type, sizeof type);
    h = rx_fnv(h, &kind, sizeof kind);
    if (dnnl_memory_desc_query(RX_MD(md), dnnl_query_dims, &dims) == dnnl_success && dims)
        h = rx_fnv(h, *dims, sizeof(int64_t) * ndims);
    if (dnnl_memory_desc_query(RX_MD(md), dnnl_query_padded_dims, &padded) == dnnl_success && padded)
        h = rx_fnv(h, *padded, sizeof(int64_t) * ndims);
    if (kind == dnnl_blocked) {
        if (dnnl_memory_desc_query(RX_MD(md), dnnl_query_strides, &strides) == dnnl_success && strides)
            h = rx_fnv(h, *strides, sizeof(int64_t) * ndims);
        dnnl_memory_desc_query(RX_MD(md), dnnl_query_inner_nblks_s32, &nblks);
        h = rx_fnv(h, &nblks, sizeof nblks);
        if (nblks > 0 && dnnl_memory_desc_query(RX_MD(md), dnnl_query_inner_blks, &blks) == dnnl_success && blks)
            h = rx_fnv(h, *blks, sizeof(int64_t) * nblks);
        if (nblks > 0 && dnnl_memory_desc_query(RX_MD(md), dnnl_query_inner_idxs, &idxs) == dnnl_success && idxs)
            h = rx_fnv(h, *idxs, sizeof(int64_t) * nblks);
    }
#else
    // Descriptors are plain structs in 2.x, zero-filled by their init functions.
    h = rx_fnv(h, md, sizeof(dnnl_memory_desc_t));
#endif
    return h;
}

/// The descriptor `pd` uses for `what` (src, weights, workspace, ...), owned by `pd`.
static inline rx_md rx_pd_query_md(const_dnnl_primitive_desc_t pd, dnnl_query_t what, int index) {
    return (rx_md)dnnl_primitive_desc_query_md(pd, what, index);
}

/// Bytes of scratchpad a run of the primitive needs from the caller (0: none).
static inline size_t rx_pd_scratchpad_bytes(const_dnnl_primitive_desc_t pd) {
    rx_md md = rx_pd_query_md(pd, dnnl_query_scratchpad_md, 0);
    return md ? rx_md_size(md) : 0;
}

static inline dnnl_status_t rx_memory_create(dnnl_memory_t *memory, rx_md md, dnnl_engine_t engine, void *handle) {
    return dnnl_memory_create(memory, RX_MD(md), engine, handle);
}

static inline const char *rx_pd_name(const_dnnl_primitive_desc_t pd) {
    const char *name = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name);
    return name ? name : "";
}

/// oneDNN's tag for bf16 convolution weights blocked as 16 pairs of one dimension by `block`
/// of the other (`BlockedWeights.h`): pairing input channels (the forward's AcdB16b{block}a2b)
/// or output channels (backward data's BcdA16a{block}b2a, which 2.x does not name), else
/// `dnnl_format_tag_undef`.
static inline dnnl_format_tag_t rx_paired_weights_tag(int pairingOutputs, int block) {
    if (!pairingOutputs) {
        switch (block) {
        case 16: return dnnl_AcdB16b16a2b;
        case 32: return dnnl_AcdB16b32a2b;
        case 64: return dnnl_AcdB16b64a2b;
        }
    }
#if DNNL_VERSION_MAJOR >= 3
    if (pairingOutputs) {
        switch (block) {
        case 16: return dnnl_BcdA16a16b2a;
        case 32: return dnnl_BcdA16a32b2a;
        case 64: return dnnl_BcdA16a64b2a;
        }
    }
#endif
    return dnnl_format_tag_undef;
}

// MARK: Primitive descriptors
//
// Each returns dnnl_success and a descriptor of the first implementation oneDNN offers whose
// name (`jit:avx512_core_amx_bf16`) does not contain `avoid` (any, when NULL), or a failure
// status and no descriptor (dnnl_unimplemented where every implementation was avoided).

#if DNNL_VERSION_MAJOR >= 3
static inline dnnl_status_t rx_pd_avoiding(dnnl_primitive_desc_t *pd, dnnl_status_t status, const char *avoid) {
    if (status != dnnl_success || !avoid) return status;
    while (strstr(rx_pd_name(*pd), avoid)) {
        if (dnnl_primitive_desc_next_impl(*pd) != dnnl_success) {
            dnnl_primitive_desc_destroy(*pd);
            *pd = NULL;
            return dnnl_unimplemented;
        }
    }
    return dnnl_success;
}
#else
static inline dnnl_status_t rx_pd_from_op(dnnl_primitive_desc_t *pd, dnnl_status_t init, const void *op,
                                          dnnl_engine_t engine, const_dnnl_primitive_desc_t hint,
                                          const char *avoid) {
    *pd = NULL;
    if (init != dnnl_success) return init;
    if (!avoid) return dnnl_primitive_desc_create(pd, op, rx_attr(), engine, hint);
    dnnl_primitive_desc_iterator_t it = NULL;
    dnnl_status_t status = dnnl_primitive_desc_iterator_create(&it, op, rx_attr(), engine, hint);
    if (status != dnnl_success) return status;
    status = dnnl_unimplemented;
    do {
        dnnl_primitive_desc_t candidate = dnnl_primitive_desc_iterator_fetch(it);
        if (!candidate) break;
        if (!strstr(rx_pd_name(candidate), avoid)) { *pd = candidate; status = dnnl_success; break; }
        dnnl_primitive_desc_destroy(candidate);
    } while (dnnl_primitive_desc_iterator_next(it) == dnnl_success);
    dnnl_primitive_desc_iterator_destroy(it);
    return status;
}
#endif

/// Convolution (or, `transposed`, deconvolution) forward; `bias` may be NULL (no bias).
/// `dilates` counts the gaps between taps (0: dense), as oneDNN does.
static inline dnnl_status_t rx_conv_forward(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, int transposed,
                                            rx_md src, rx_md weights, rx_md bias, rx_md dst, const int64_t *strides,
                                            const int64_t *dilates, const int64_t *pad_l, const int64_t *pad_r,
                                            const char *avoid) {
    dnnl_prop_kind_t prop = dnnl_forward_training;
#if DNNL_VERSION_MAJOR >= 3
    dnnl_status_t s = transposed
        ? dnnl_deconvolution_forward_primitive_desc_create(pd, engine, prop, dnnl_deconvolution_direct, RX_MD(src),
              RX_MD(weights), RX_MD(bias), RX_MD(dst), strides, dilates, pad_l, pad_r, rx_attr())
        : dnnl_convolution_forward_primitive_desc_create(pd, engine, prop, dnnl_convolution_direct, RX_MD(src),
              RX_MD(weights), RX_MD(bias), RX_MD(dst), strides, dilates, pad_l, pad_r, rx_attr());
    return rx_pd_avoiding(pd, s, avoid);
#else
    dnnl_convolution_desc_t op;
    dnnl_status_t s = transposed
        ? dnnl_dilated_deconvolution_forward_desc_init(&op, prop, dnnl_deconvolution_direct, RX_MD(src),
              RX_MD(weights), RX_MD(bias), RX_MD(dst), strides, dilates, pad_l, pad_r)
        : dnnl_dilated_convolution_forward_desc_init(&op, prop, dnnl_convolution_direct, RX_MD(src),
              RX_MD(weights), RX_MD(bias), RX_MD(dst), strides, dilates, pad_l, pad_r);
    return rx_pd_from_op(pd, s, &op, engine, NULL, avoid);
#endif
}

static inline dnnl_status_t rx_conv_backward_data(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, int transposed,
                                                  rx_md diff_src, rx_md weights, rx_md diff_dst,
                                                  const int64_t *strides, const int64_t *dilates,
                                                  const int64_t *pad_l, const int64_t *pad_r,
                                                  const_dnnl_primitive_desc_t hint, const char *avoid) {
#if DNNL_VERSION_MAJOR >= 3
    dnnl_status_t s = transposed
        ? dnnl_deconvolution_backward_data_primitive_desc_create(pd, engine, dnnl_deconvolution_direct,
              RX_MD(diff_src), RX_MD(weights), RX_MD(diff_dst), strides, dilates, pad_l, pad_r, hint, rx_attr())
        : dnnl_convolution_backward_data_primitive_desc_create(pd, engine, dnnl_convolution_direct,
              RX_MD(diff_src), RX_MD(weights), RX_MD(diff_dst), strides, dilates, pad_l, pad_r, hint, rx_attr());
    return rx_pd_avoiding(pd, s, avoid);
#else
    dnnl_convolution_desc_t op;
    dnnl_status_t s = transposed
        ? dnnl_dilated_deconvolution_backward_data_desc_init(&op, dnnl_deconvolution_direct, RX_MD(diff_src),
              RX_MD(weights), RX_MD(diff_dst), strides, dilates, pad_l, pad_r)
        : dnnl_dilated_convolution_backward_data_desc_init(&op, dnnl_convolution_direct, RX_MD(diff_src),
              RX_MD(weights), RX_MD(diff_dst), strides, dilates, pad_l, pad_r);
    return rx_pd_from_op(pd, s, &op, engine, hint, avoid);
#endif
}

/// `diff_bias` may be NULL (no bias).
static inline dnnl_status_t rx_conv_backward_weights(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, int transposed,
                                                     rx_md src, rx_md diff_weights, rx_md diff_bias, rx_md diff_dst,
                                                     const int64_t *strides, const int64_t *dilates,
                                                     const int64_t *pad_l, const int64_t *pad_r,
                                                     const_dnnl_primitive_desc_t hint, const char *avoid) {
#if DNNL_VERSION_MAJOR >= 3
    dnnl_status_t s = transposed
        ? dnnl_deconvolution_backward_weights_primitive_desc_create(pd, engine, dnnl_deconvolution_direct,
              RX_MD(src), RX_MD(diff_weights), RX_MD(diff_bias), RX_MD(diff_dst), strides, dilates, pad_l, pad_r,
              hint, rx_attr())
        : dnnl_convolution_backward_weights_primitive_desc_create(pd, engine, dnnl_convolution_direct,
              RX_MD(src), RX_MD(diff_weights), RX_MD(diff_bias), RX_MD(diff_dst), strides, dilates, pad_l, pad_r,
              hint, rx_attr());
    return rx_pd_avoiding(pd, s, avoid);
#else
    dnnl_convolution_desc_t op;
    dnnl_status_t s = transposed
        ? dnnl_dilated_deconvolution_backward_weights_desc_init(&op, dnnl_deconvolution_direct, RX_MD(src),
              RX_MD(diff_weights), RX_MD(diff_bias), RX_MD(diff_dst), strides, dilates, pad_l, pad_r)
        : dnnl_dilated_convolution_backward_weights_desc_init(&op, dnnl_convolution_direct, RX_MD(src),
              RX_MD(diff_weights), RX_MD(diff_bias), RX_MD(diff_dst), strides, dilates, pad_l, pad_r);
    return rx_pd_from_op(pd, s, &op, engine, hint, avoid);
#endif
}

/// The implementations a convolution's backward weights must not use. oneDNN 2.6's AMX bf16
/// kernel corrupts the heap on UNet's 480x480 layers (DRIVE's crop: "corrupted double-linked
/// list" or a bus error right after it runs; 256x256 survives), so 2.x runs its
/// avx512_core_bf16 kernel instead.
static inline const char *rx_conv_backward_weights_avoid(void) {
#if DNNL_VERSION_MAJOR >= 3
    return NULL;
#else
    return "amx";
#endif
}

// Batch normalization with scale and shift. oneDNN 2.x's channels-last backward rejects them as
// separate arguments (invalid_arguments), so 2.x gets them packed as one 2xC tensor
// (use_scaleshift); 3.0 removed packing, so 3.x gets two C tensors.
#if DNNL_VERSION_MAJOR >= 3
#define RX_BATCHNORM_PACKED_SCALE_SHIFT 0
#else
#define RX_BATCHNORM_PACKED_SCALE_SHIFT 1
#endif

static inline unsigned rx_batchnorm_flags(int global_stats, int relu) {
#if DNNL_VERSION_MAJOR >= 3
    unsigned flags = dnnl_use_scale | dnnl_use_shift;
#else
    unsigned flags = dnnl_use_scaleshift;
#endif
    return flags | (global_stats ? dnnl_use_global_stats : 0) | (relu ? dnnl_fuse_norm_relu : 0);
}

static inline dnnl_status_t rx_batchnorm_forward(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, int training,
                                                 rx_md data, float eps, unsigned flags) {
    dnnl_prop_kind_t prop = training ? dnnl_forward_training : dnnl_forward_inference;
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_batch_normalization_forward_primitive_desc_create(pd, engine, prop, RX_MD(data), RX_MD(data), eps,
                                                                  flags, rx_attr());
#else
    dnnl_batch_normalization_desc_t op;
    dnnl_status_t s = dnnl_batch_normalization_forward_desc_init(&op, prop, RX_MD(data), eps, flags);
    return rx_pd_from_op(pd, s, &op, engine, NULL, NULL);
#endif
}

static inline dnnl_status_t rx_batchnorm_backward(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, rx_md data,
                                                  float eps, unsigned flags, const_dnnl_primitive_desc_t hint) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_batch_normalization_backward_primitive_desc_create(pd, engine, dnnl_backward, RX_MD(data),
                                                                   RX_MD(data), RX_MD(data), eps, flags, hint, rx_attr());
#else
    dnnl_batch_normalization_desc_t op;
    dnnl_status_t s = dnnl_batch_normalization_backward_desc_init(&op, dnnl_backward, RX_MD(data), RX_MD(data),
                                                                  eps, flags);
    return rx_pd_from_op(pd, s, &op, engine, hint, NULL);
#endif
}

/// ReLU forward; `use_dst` makes it the forward whose backward reads the output, not the input.
static inline dnnl_status_t rx_relu_forward(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, rx_md data, int use_dst) {
    dnnl_alg_kind_t alg = use_dst ? dnnl_eltwise_relu_use_dst_for_bwd : dnnl_eltwise_relu;
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_eltwise_forward_primitive_desc_create(pd, engine, dnnl_forward_training, alg, RX_MD(data),
                                                      RX_MD(data), 0, 0, rx_attr());
#else
    dnnl_eltwise_desc_t op;
    dnnl_status_t s = dnnl_eltwise_forward_desc_init(&op, dnnl_forward_training, alg, RX_MD(data), 0, 0);
    return rx_pd_from_op(pd, s, &op, engine, NULL, NULL);
#endif
}

/// ReLU backward from the forward's output.
static inline dnnl_status_t rx_relu_backward(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, rx_md data,
                                             const_dnnl_primitive_desc_t hint) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_eltwise_backward_primitive_desc_create(pd, engine, dnnl_eltwise_relu_use_dst_for_bwd, RX_MD(data),
                                                       RX_MD(data), RX_MD(data), 0, 0, hint, rx_attr());
#else
    dnnl_eltwise_desc_t op;
    dnnl_status_t s = dnnl_eltwise_backward_desc_init(&op, dnnl_eltwise_relu_use_dst_for_bwd, RX_MD(data),
                                                      RX_MD(data), 0, 0);
    return rx_pd_from_op(pd, s, &op, engine, hint, NULL);
#endif
}

/// Max pooling forward (training: with the workspace backward needs).
static inline dnnl_status_t rx_maxpool_forward(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, rx_md src, rx_md dst,
                                               const int64_t *strides, const int64_t *kernel, const int64_t *dilation,
                                               const int64_t *pad_l, const int64_t *pad_r) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_pooling_forward_primitive_desc_create(pd, engine, dnnl_forward_training, dnnl_pooling_max,
                                                      RX_MD(src), RX_MD(dst), strides, kernel, dilation, pad_l,
                                                      pad_r, rx_attr());
#else
    dnnl_pooling_v2_desc_t op;
    dnnl_status_t s = dnnl_pooling_v2_forward_desc_init(&op, dnnl_forward_training, dnnl_pooling_max, RX_MD(src),
                                                        RX_MD(dst), strides, kernel, dilation, pad_l, pad_r);
    return rx_pd_from_op(pd, s, &op, engine, NULL, NULL);
#endif
}

static inline dnnl_status_t rx_maxpool_backward(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, rx_md diff_src,
                                                rx_md diff_dst, const int64_t *strides, const int64_t *kernel,
                                                const int64_t *dilation, const int64_t *pad_l, const int64_t *pad_r,
                                                const_dnnl_primitive_desc_t hint) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_pooling_backward_primitive_desc_create(pd, engine, dnnl_pooling_max, RX_MD(diff_src),
                                                       RX_MD(diff_dst), strides, kernel, dilation, pad_l, pad_r,
                                                       hint, rx_attr());
#else
    dnnl_pooling_v2_desc_t op;
    dnnl_status_t s = dnnl_pooling_v2_backward_desc_init(&op, dnnl_pooling_max, RX_MD(diff_src), RX_MD(diff_dst),
                                                         strides, kernel, dilation, pad_l, pad_r);
    return rx_pd_from_op(pd, s, &op, engine, hint, NULL);
#endif
}

static inline dnnl_status_t rx_reorder(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, rx_md from, rx_md to) {
    return dnnl_reorder_primitive_desc_create(pd, RX_MD(from), engine, RX_MD(to), engine, rx_attr());
}

/// Matrix product dst = src · weights (2-D, any strides: a transposed operand is tag `ba`).
static inline dnnl_status_t rx_matmul(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, rx_md src, rx_md weights,
                                      rx_md dst) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_matmul_primitive_desc_create(pd, engine, RX_MD(src), RX_MD(weights), NULL, RX_MD(dst), rx_attr());
#else
    dnnl_matmul_desc_t op;
    dnnl_status_t s = dnnl_matmul_desc_init(&op, RX_MD(src), RX_MD(weights), NULL, RX_MD(dst));
    return rx_pd_from_op(pd, s, &op, engine, NULL, NULL);
#endif
}
