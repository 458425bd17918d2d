/* The sqrt_log kernel: sum of sqrt(i) * log(i + 1) for i in [begin, end).
 *
 * Plain C, no Python headers: it is compiled into both the CPython extension
 * (gilwise._native._capi) and the ctypes shared library (libgilwise_native.so).
 */
#ifndef GILWISE_SQRT_LOG_H
#define GILWISE_SQRT_LOG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever an exported signature or the kernel's definition changes, so
 * the Python side can refuse a stale build instead of calling it wrongly. */
#define GILWISE_NATIVE_ABI_VERSION 1

/* Same operations in the same order as the Python reference, so a serial run
 * gives the same double (no -ffast-math: the compiler must not reassociate). */
double gilwise_sqrt_log_range(uint64_t begin, uint64_t end);

#ifdef __cplusplus
}
#endif

#endif
