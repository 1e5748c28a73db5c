// The float32 kernels the engine's ops call: dense GEMM on packed weights, strided GEMM for
// activation x activation products, and the vectorized math of the element-wise ops.
#pragma once
#include <cstddef>
#include <memory>

#include "op_codes.h"

namespace onnxforge::engine {

struct DenseWeights;
struct DenseWeightsDeleter { void operator()(DenseWeights* w) const; };

// W is k x n row-major, or n x k when `transposed` (Gemm with transB = 1).
std::unique_ptr<DenseWeights, DenseWeightsDeleter> packDense(const float* w, size_t k, size_t n, bool transposed);
size_t denseBytes(const DenseWeights& w);
// y (m x n) = activation(x (m x k, row stride lda) * W + bias); threads over the pool.
void denseLinear(const float* x, size_t m, size_t lda, const DenseWeights& w, const float* bias,
                 Activation activation, float* y);
// c = alpha * op(a) * op(b) + beta * c on the calling thread (callers parallelize over batches).
void gemmSerial(size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda, bool transA,
                const float* b, size_t ldb, bool transB, float beta, float* c, size_t ldc);
// The same product, threaded over the pool.
void gemmParallel(size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda, bool transA,
                  const float* b, size_t ldb, bool transB, float beta, float* c, size_t ldc);

void applyActivation(Activation activation, float* y, size_t count);
// Element-wise math whose cost matters (exp, erf, tanh, gelu, ...): y may equal x.
void unaryFloat(UnaryKind kind, const float* x, float* y, size_t count, float alpha, float beta);
// y += x.
void addInto(float* y, const float* x, size_t n);
// One pooling output row (see vmath::poolRow).
void poolRow(const float* x, size_t pixels, size_t pixelStride, const ptrdiff_t* offsets, size_t taps, bool average,
             float scale, float* y, size_t n);
// One depthwise output row (see vmath::depthwiseRow).
void depthwiseRow(const float* x, size_t pixels, size_t pixelStride, const ptrdiff_t* offsets,
                  const float* const* weights, size_t taps, const float* bias, float* y, size_t n);
void softmaxRow(const float* x, float* y, size_t n, bool logarithm);
void layerNormRow(const float* x, const float* gamma, const float* beta, size_t n, float epsilon, float* y);

}  // namespace onnxforge::engine
