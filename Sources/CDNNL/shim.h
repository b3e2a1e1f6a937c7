// oneDNN's C API plus the two OpenMP calls we need to honour --threads.
// libdnnl on Debian is built with the OpenMP runtime (libgomp), so the thread
// count oneDNN uses is OpenMP's. omp.h lives in gcc's private include folder,
// which clang does not search, hence the plain declarations.
#include <dnnl.h>
#include <dnnl_debug.h>
void omp_set_num_threads(int);
int omp_get_max_threads(void);
// mallopt, to keep freed activations in the heap between training steps (TensorMemory.swift).
#include <malloc.h>
