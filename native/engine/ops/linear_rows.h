// The linear layer's product over rows of x, whichever kernel its weights were packed for; shared
// by the Linear step and the convolutions (im2col rows).
#pragma once
#include <cstddef>
#include <cstdint>

#include "../model_weights.h"
#include "../op_codes.h"

namespace onnxforge::engine {

// y (m x w.n, rows w.n apart) = activation(x (m rows of w.k, lda apart) * W + bias).
void linearRows(const LinearWeights& w, const float* x, size_t m, size_t lda, const float* bias, Activation activation,
                float* y);

// The same for int8 weights on activations already quantized with one scale and zero point
// (a static QDQ model's): y = activation(scale * w.scale * (x - zeroPoint) * W + bias).
void quantizedLinearRows(const LinearWeights& w, const uint8_t* x, bool isSigned, size_t m, size_t lda, float scale,
                         int32_t zeroPoint, const float* bias, Activation activation, float* y);

}  // namespace onnxforge::engine
