#include "conv_geometry.h"

namespace onnxforge::engine {

WindowGeometry windowGeometry(const Step& step) {
  const auto at = [&](size_t i) { return static_cast<size_t>(step.ints[i]); };
  return {at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7), at(8), at(9), at(10), at(11), at(12), at(13), at(14),
          at(15), at(16)};
}

WindowGeometry checkedWindowGeometry(const Step& step) {
  requireInts(step, WindowGeometry::kParams);
  for (size_t i = 0; i < WindowGeometry::kParams; ++i) sizeParam(step, i);
  WindowGeometry g = windowGeometry(step);
  if (g.kh == 0 || g.kw == 0 || g.sh == 0 || g.sw == 0 || g.dh == 0 || g.dw == 0) planError(step, "window sizes, strides and dilations must be positive");
  productParam(step, 0, 4);
  mulParam(step, mulParam(step, g.n, g.oh), mulParam(step, g.ow, g.oc));
  mulParam(step, mulParam(step, g.kh, g.kw), g.c);
  return g;
}

}  // namespace onnxforge::engine
