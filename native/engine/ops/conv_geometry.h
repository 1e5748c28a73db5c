// The geometry every NHWC window step shares (convolution, depthwise, pooling), as the lowering
// encodes it: ints [N, H, W, C, OH, OW, OC, KH, KW, SH, SW, PT, PL, PB, PR, DH, DW, ...].
#pragma once
#include <cstddef>
#include <utility>
#include <cstdint>

#include "../op_kernel.h"

namespace onnxforge::engine {

struct WindowGeometry {
  size_t n, h, w, c, oh, ow, oc, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
  static constexpr size_t kParams = 17;

  size_t inputCount() const { return n * h * w * c; }
  size_t outputCount() const { return n * oh * ow * oc; }
  // Input row/column of output (oy, ox) at window tap (ky, kx), as signed values (padding is negative
  // or past the edge).
  int64_t inY(size_t oy, size_t ky) const {
    return static_cast<int64_t>(oy * sh + ky * dh) - static_cast<int64_t>(pt);
  }
  int64_t inX(size_t ox, size_t kx) const {
    return static_cast<int64_t>(ox * sw + kx * dw) - static_cast<int64_t>(pl);
  }
  // Output columns [first, second) whose window columns all lie inside the input (none: first == second).
  std::pair<size_t, size_t> interiorColumns() const {
    size_t lo = 0;
    while (lo < ow && inX(lo, 0) < 0) ++lo;
    size_t hi = lo;
    while (hi < ow && inX(hi, kw - 1) < static_cast<int64_t>(w)) ++hi;
    return {lo, hi};
  }
};

WindowGeometry windowGeometry(const Step& step);
// Reads and checks ints[0 .. kParams) (every size positive where it must be, products in range).
WindowGeometry checkedWindowGeometry(const Step& step);

}  // namespace onnxforge::engine
