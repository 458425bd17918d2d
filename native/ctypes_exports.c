/* Entry points of libgilwise_native.so, the plain shared library that
 * gilwise._native loads with ctypes.
 *
 * No Python headers: the same file works from any CPython on the platform
 * (GIL or free-threaded, any minor version) without a rebuild. ctypes releases
 * the GIL around every foreign call, so these run in parallel under threads.
 */
#include "ctypes_exports.h"

#include "sqrt_log.h"

int
gilwise_native_abi_version(void)
{
    return GILWISE_NATIVE_ABI_VERSION;
}

double
gilwise_sqrt_log(uint64_t n)
{
    return gilwise_sqrt_log_range(0, n);
}

void
gilwise_noop(void)
{
}
