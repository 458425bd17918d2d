// The cpp-threads model: one native call that splits the sqrt_log range over N
// std::threads. Called through ctypes, which has already released the GIL, so
// no Python API is touched here and nothing may throw across the C boundary.
#include <cstdio>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

#include "ctypes_exports.h"
#include "sqrt_log.h"

namespace {

void write_error(char *err, size_t err_len, const char *what) {
    if (err != nullptr && err_len > 0) {
        std::snprintf(err, err_len, "%s", what);
    }
}

}  // namespace

extern "C" int gilwise_sqrt_log_threads(uint64_t n, uint32_t threads, double *out, char *err,
                                        size_t err_len) {
    if (threads == 0 || out == nullptr) {
        write_error(err, err_len, "threads must be >= 1 and out must not be NULL");
        return GILWISE_EINVAL;
    }
    std::vector<double> partial(threads, 0.0);
    std::vector<std::thread> workers;
    int status = GILWISE_OK;
    try {
        workers.reserve(threads);
        for (uint32_t k = 0; k < threads; k++) {
            // Contiguous ranges [k*n/T, (k+1)*n/T): sizes differ by at most one.
            // 128-bit product: k * n overflows 64 bits for n near 2**63.
            uint64_t begin = (uint64_t)(((unsigned __int128)n * k) / threads);
            uint64_t end = (uint64_t)(((unsigned __int128)n * (k + 1)) / threads);
            workers.emplace_back(
                [&partial, k, begin, end] { partial[k] = gilwise_sqrt_log_range(begin, end); });
        }
    } catch (const std::exception &exc) {
        write_error(err, err_len, exc.what());
        status = GILWISE_ETHREAD;
    }
    // Join whatever started, even after a failure: destroying a joinable
    // std::thread calls std::terminate.
    for (std::thread &worker : workers) {
        worker.join();
    }
    if (status != GILWISE_OK) {
        return status;
    }
    double result = 0.0;
    for (double value : partial) {
        result += value;
    }
    *out = result;
    return GILWISE_OK;
}
