// Dispatch for the vector math: the table of the active ISA, chosen once.
#include "vector_math.h"

#include "isa_dispatch.h"
#include "vector_math_isa.h"

namespace onnxforge::vmath {
namespace {

const IsaEntry<VectorKernels> kFamily[] = {
#if defined(ONNXFORGE_X86)
    {IsaLevel::Avx512Vnni, avx512VectorKernels},
    {IsaLevel::Avx2, avx2VectorKernels},
#endif
    {IsaLevel::Scalar, scalarVectorKernels}};

const VectorKernels& active() {
  static const VectorKernels& table = vectorKernelsFor(dispatchLevel());
  return table;
}

}  // namespace

const VectorKernels& vectorKernelsFor(IsaLevel level) { return selectIsa(kFamily, level); }

IsaLevel vectorMathIsa() { return active().isa; }

void exp(const float* x, float* y, size_t n) { active().exp(x, y, n); }
void erf(const float* x, float* y, size_t n) { active().erf(x, y, n); }
void tanh(const float* x, float* y, size_t n) { active().tanh(x, y, n); }
void sigmoid(const float* x, float* y, size_t n) { active().sigmoid(x, y, n); }
void gelu(const float* x, float* y, size_t n) { active().gelu(x, y, n); }
void geluTanh(const float* x, float* y, size_t n) { active().geluTanh(x, y, n); }
void relu(const float* x, float* y, size_t n) { active().relu(x, y, n); }
void relu6(const float* x, float* y, size_t n) { active().relu6(x, y, n); }
void hardSwish(const float* x, float* y, size_t n) { active().hardSwish(x, y, n); }
void add(const float* a, const float* b, float* y, size_t n) { active().add(a, b, y, n); }
void poolRow(const float* x, size_t pixels, size_t pixelStride, const ptrdiff_t* offsets, size_t taps, bool average,
             float scale, float* y, size_t n) {
  active().poolRow(x, pixels, pixelStride, offsets, taps, average, scale, y, n);
}
void depthwiseRow(const float* x, size_t pixels, size_t pixelStride, const ptrdiff_t* offsets,
                  const float* const* weights, size_t taps, const float* bias, float* y, size_t n) {
  active().depthwiseRow(x, pixels, pixelStride, offsets, weights, taps, bias, y, n);
}
void softmaxRow(const float* x, float* y, size_t n) { active().softmaxRow(x, y, n); }
void layerNormRow(const float* x, const float* gamma, const float* beta, size_t n, float epsilon, float* y) {
  active().layerNormRow(x, gamma, beta, n, epsilon, y);
}

}  // namespace onnxforge::vmath
