#include "sqrt_log.h"

#include <math.h>

double
gilwise_sqrt_log_range(uint64_t begin, uint64_t end)
{
    double result = 0.0;
    for (uint64_t i = begin; i < end; i++) {
        /* i + 1 in integer arithmetic like Python's log(i + 1); exact in a
         * double for every i below 2**53, which the Python side enforces. */
        result += sqrt((double)i) * log((double)(i + 1));
    }
    return result;
}
