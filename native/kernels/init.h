// Weight initialization kernels that are too slow in JavaScript (lib/init.ts calls them).
#pragma once
#include "common.h"

namespace rnnkit {

// Modified Gram–Schmidt over the n rows of q (n×n, row-major), in place: row i loses its
// projections onto rows 0..i-1 in that order, then is divided by its norm (a zero or NaN norm
// divides by 1). Every row sees exactly the operations, in exactly the order and precision, of
// the JavaScript loop it replaces (lib/init.ts), so the result is bit-identical.
void orthogonalize_rows(index_t n, double* q);

}  // namespace rnnkit
