/* The C ABI of libgilwise_native.so; gilwise/_native/_library.py declares the
 * same signatures for ctypes and must change together with this file. */
#ifndef GILWISE_CTYPES_EXPORTS_H
#define GILWISE_CTYPES_EXPORTS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GILWISE_EXPORT __attribute__((visibility("default")))

/* Return codes of gilwise_sqrt_log_threads. */
#define GILWISE_OK 0
#define GILWISE_EINVAL 1        /* threads == 0 or out == NULL */
#define GILWISE_ETHREAD 2       /* a std::thread could not be started */

GILWISE_EXPORT int gilwise_native_abi_version(void);
GILWISE_EXPORT double gilwise_sqrt_log(uint64_t n);
GILWISE_EXPORT void gilwise_noop(void);

/* One call that splits [0, n) into `threads` contiguous ranges, runs each on
 * its own std::thread and adds the partial sums in range order. On failure
 * returns a GILWISE_E* code and writes a NUL-terminated reason into err. */
GILWISE_EXPORT int gilwise_sqrt_log_threads(uint64_t n, uint32_t threads, double *out,
                                            char *err, size_t err_len);

#ifdef __cplusplus
}
#endif

#endif
