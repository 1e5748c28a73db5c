// Dense float32 matrix multiplication: the Linear/MatMul/Gemm layers on weights
// packed once (gemmPacked), and strided products of two activations, such as
// attention's Q K^T and P V (gemm, gemmSerial). No BLAS: per-ISA micro-kernels
// (float_gemm_isa.h) over cache-blocked, panel-packed B.
#pragma once
#include <cstddef>
#include <memory>

#include "cpu_features.h"
#include "int8_buffer.h"

namespace onnxforge::fgemm {

// Applied to each output element; the functions of vector_math.h.
enum class Activation { None, Relu, Gelu, GeluTanh, Tanh, Sigmoid };

// y = activation(acc + bias) + residual.
struct Epilogue {
  const float* bias = nullptr;      // n values, or nullptr
  Activation activation = Activation::None;
  const float* residual = nullptr;  // m x n with row stride residualStride, or nullptr
  size_t residualStride = 0;
};

// B in the layout of one ISA's micro-kernel: column panels of panelWidth floats, each
// panel k rows of panelWidth contiguous floats; the last panel is zero-padded.
struct PackedFloatWeights {
  IsaLevel isa = IsaLevel::Scalar;
  size_t k = 0, n = 0;
  size_t panelWidth = 0;
  int8::ByteBuffer data;  // 64-byte aligned

  size_t panels() const { return (n + panelWidth - 1) / panelWidth; }
  const float* panel(size_t index) const { return data.as<float>() + index * k * panelWidth; }
  size_t bytes() const { return data.size(); }
};

// B is k x n row-major (MatMul), or n x k row-major when transposed (Gemm with transB = 1).
// Packs for the active ISA.
std::unique_ptr<PackedFloatWeights> packWeights(const float* b, size_t k, size_t n, bool transposed);

// y (m x n, row stride ldy) = epilogue(a (m x k, row stride lda) * B), threaded over the pool
// (on the calling thread alone for small products). y must not overlap a or the residual.
void gemmPacked(const float* a, size_t m, size_t lda, const PackedFloatWeights& w, float* y, size_t ldy,
                const Epilogue& epilogue);

// c (m x n) = alpha * op(a) * op(b) + beta * c, where op(a) is m x k (a is k x m when transA)
// and op(b) is k x n (b is n x k when transB). beta = 0 never reads c. gemmSerial runs on the
// calling thread only (for callers that parallelize over batches or heads); gemm uses the pool.
void gemmSerial(size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda, bool transA,
                const float* b, size_t ldb, bool transB, float beta, float* c, size_t ldc);
void gemm(size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda, bool transA,
          const float* b, size_t ldb, bool transB, float beta, float* c, size_t ldc);

// The ISA the float kernels run at (AMX machines run the AVX-512 kernels).
IsaLevel floatGemmIsa();

// Sustained float operations per second (2 per FMA) of the active ISA's multiply-add on
// one thread, measured for about `seconds` (the benchmark's fraction of peak).
double measurePeakFlopsPerSecond(double seconds);

}  // namespace onnxforge::fgemm
