// The float GEMM around the per-ISA micro-kernels: packing B into panels, blocking
// k for the caches, splitting the product into work items for the thread pool, and
// the epilogue. Loop order inside an item (BLIS's jr-ir): for each k block, for each
// panel, for each register block of rows; the panel's k block (kc x panel width)
// stays in L2 while the rows sweep over it, and the item's rows of A (rows x kc)
// stay in L2 (or L3 when kc is deep) while the panels sweep over them.
#include "float_gemm.h"

#include <algorithm>
#include <cstring>

#include "float_gemm_isa.h"
#include "isa_dispatch.h"
#include "thread_pool.h"
#include "vector_math_isa.h"

namespace onnxforge::fgemm {
namespace {

const IsaEntry<FloatKernels> kFamily[] = {
#if defined(ONNXFORGE_X86)
    {IsaLevel::Avx512Vnni, avx512FloatKernels},
    {IsaLevel::Avx2, avx2FloatKernels},
#endif
    {IsaLevel::Scalar, scalarFloatKernels}};

// The table packed weights were made for (their level), or the active one.
const FloatKernels& kernelsFor(IsaLevel level) { return selectIsa(kFamily, level); }

const FloatKernels& activeKernels() {
  static const FloatKernels& table = kernelsFor(dispatchLevel());
  return table;
}

size_t ceilDiv(size_t a, size_t b) { return (a + b - 1) / b; }

// Depth of a k block. The micro-kernels run at full speed with the panel's slice in L2
// (kc x 32 floats on AVX-512: 256 KiB at most); deeper blocks mean fewer passes over C.
constexpr size_t kMaxDepth = 2048;
// Floats of A one item keeps in L2 (half of a 1 MiB L2; the rest holds panels and C).
constexpr size_t kL2Floats = 128 * 1024;
// Products below this many multiply-adds finish before waking the pool would pay off.
constexpr double kSerialMacs = 1 << 19;
// Work items per thread: enough for chunks claimed on demand to even out.
constexpr size_t kItemsPerThread = 4;

// How one product is cut up.
struct Plan {
  size_t m = 0, n = 0, k = 0;
  size_t kc = 0, kBlocks = 1;
  size_t rowBlocks = 0;         // register blocks of rows, of nearly equal height
  size_t rowBlocksPerItem = 0;  // consecutive row blocks per work item
  size_t panels = 0, panelsPerItem = 0;
  size_t rowItems = 1, panelItems = 1;
  bool parallel = false;

  size_t items() const { return rowItems * panelItems; }
  // Rows [begin, end) of register block `index`.
  size_t rowBegin(size_t index) const { return index * m / rowBlocks; }
};

Plan makePlan(const FloatKernels& isa, size_t m, size_t n, size_t k, bool allowThreads) {
  Plan plan;
  plan.m = m;
  plan.n = n;
  plan.k = k;
  if (m == 0 || n == 0) return plan;
  plan.rowBlocks = ceilDiv(m, isa.maxRows);
  // One register block of rows reuses no panel slice, so its k is never split: B then
  // streams from memory in order, as a batch-1 layer needs.
  plan.kBlocks = plan.rowBlocks == 1 ? 1 : std::max<size_t>(1, ceilDiv(k, kMaxDepth));
  plan.kc = ceilDiv(k, plan.kBlocks);
  // Row items of equal size, each within the L2 budget.
  size_t rowsByCache = std::max<size_t>(isa.maxRows, kL2Floats / std::max<size_t>(plan.kc, 1));
  size_t rowItems = ceilDiv(plan.rowBlocks, std::max<size_t>(1, rowsByCache / isa.maxRows));
  plan.rowBlocksPerItem = std::max<size_t>(1, ceilDiv(plan.rowBlocks, rowItems));
  plan.panels = ceilDiv(n, isa.panelWidth);
  plan.panelsPerItem = plan.panels;
  double macs = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  size_t threads = allowThreads ? static_cast<size_t>(getNumThreads()) : 1;
  plan.parallel = threads > 1 && macs >= kSerialMacs;
  if (plan.parallel) {
    // Rows are split by cache; then columns until every thread has several items.
    size_t wanted = kItemsPerThread * threads;
    if (rowItems < wanted) {
      size_t panelItems = std::min(plan.panels, ceilDiv(wanted, rowItems));
      plan.panelsPerItem = ceilDiv(plan.panels, panelItems);
      // A single row item with too few panels to share splits its rows instead.
      if (ceilDiv(plan.panels, plan.panelsPerItem) * rowItems < threads && plan.rowBlocks > 1) {
        plan.rowBlocksPerItem = std::max<size_t>(1, ceilDiv(plan.rowBlocks, threads));
      }
    }
  }
  plan.rowItems = ceilDiv(plan.rowBlocks, plan.rowBlocksPerItem);
  plan.panelItems = std::max<size_t>(1, ceilDiv(plan.panels, plan.panelsPerItem));
  return plan;
}

// Runs item(rowBlockBegin, rowBlockEnd, panelBegin, panelEnd) over the plan's items.
template <typename Item>
void runItems(const Plan& plan, Item&& item) {
  if (plan.m == 0 || plan.n == 0) return;
  auto body = [&](size_t begin, size_t end) {
    for (size_t index = begin; index < end; ++index) {
      size_t rowItem = index / plan.panelItems, panelItem = index % plan.panelItems;
      size_t rb0 = rowItem * plan.rowBlocksPerItem, p0 = panelItem * plan.panelsPerItem;
      item(rb0, std::min(plan.rowBlocks, rb0 + plan.rowBlocksPerItem), p0, std::min(plan.panels, p0 + plan.panelsPerItem));
    }
  };
  if (plan.parallel && plan.items() > 1) {
    parallelFor(plan.items(), 1, body);
  } else {
    body(0, plan.items());
  }
}

vmath::VectorKernels::Unary activationKernel(const vmath::VectorKernels& v, Activation activation) {
  switch (activation) {
    case Activation::None: return nullptr;
    case Activation::Relu: return v.relu;
    case Activation::Gelu: return v.gelu;
    case Activation::GeluTanh: return v.geluTanh;
    case Activation::Tanh: return v.tanh;
    case Activation::Sigmoid: return v.sigmoid;
  }
  return nullptr;
}

// Columns [col0, col0 + columns) of op(B) rows [k0, k0 + kc) as one zero-padded panel slice.
void packPanel(const FloatKernels& isa, const float* b, size_t ldb, bool transposed, size_t k0, size_t kc, size_t col0,
               size_t columns, float* out) {
  const size_t width = isa.panelWidth;
  if (transposed) {
    isa.transpose(b + col0 * ldb + k0, ldb, columns, kc, out, width);
  } else {
    for (size_t p = 0; p < kc; ++p) std::memcpy(out + p * width, b + (k0 + p) * ldb + col0, columns * sizeof(float));
  }
  for (size_t p = 0; p < kc && columns < width; ++p) std::fill(out + p * width + columns, out + (p + 1) * width, 0.0f);
}

// Per-thread scratch for on-the-fly packing, 64-byte aligned, grown as needed.
float* scratch(int8::ByteBuffer& buffer, size_t floats) {
  if (buffer.size() < floats * sizeof(float)) buffer = int8::ByteBuffer(floats * sizeof(float));
  return buffer.as<float>();
}

}  // namespace

IsaLevel floatGemmIsa() { return activeKernels().isa; }

double measurePeakFlopsPerSecond(double seconds) { return activeKernels().peakFlopsPerSecond(seconds); }

std::unique_ptr<PackedFloatWeights> packWeights(const float* b, size_t k, size_t n, bool transposed) {
  const FloatKernels& isa = activeKernels();
  auto w = std::make_unique<PackedFloatWeights>();
  w->isa = isa.isa;
  w->k = k;
  w->n = n;
  w->panelWidth = isa.panelWidth;
  w->data = int8::ByteBuffer(w->panels() * k * isa.panelWidth * sizeof(float));
  float* data = w->data.as<float>();
  size_t ldb = transposed ? k : n;
  // Chunks of at least 256K floats: small weights are packed on the calling thread.
  size_t grain = std::max<size_t>(1, (size_t(1) << 18) / std::max<size_t>(1, k * isa.panelWidth));
  parallelFor(w->panels(), grain, [&](size_t begin, size_t end) {
    for (size_t panel = begin; panel < end; ++panel) {
      size_t col0 = panel * isa.panelWidth;
      packPanel(isa, b, ldb, transposed, 0, k, col0, std::min(isa.panelWidth, n - col0), data + panel * k * isa.panelWidth);
    }
  });
  return w;
}

void gemmPacked(const float* a, size_t m, size_t lda, const PackedFloatWeights& w, float* y, size_t ldy,
                const Epilogue& epilogue) {
  const FloatKernels& isa = kernelsFor(w.isa);
  const vmath::VectorKernels& vector = vmath::vectorKernelsFor(w.isa);
  const vmath::VectorKernels::Unary activation = activationKernel(vector, epilogue.activation);
  const Plan plan = makePlan(isa, m, w.n, w.k, true);
  const size_t width = isa.panelWidth;
  runItems(plan, [&](size_t rb0, size_t rb1, size_t p0, size_t p1) {
    for (size_t kb = 0; kb < plan.kBlocks; ++kb) {
      const size_t k0 = kb * plan.kc, kc = std::min(plan.kc, w.k - k0);
      const bool last = kb + 1 == plan.kBlocks;
      for (size_t panel = p0; panel < p1; ++panel) {
        const size_t col0 = panel * width, columns = std::min(width, w.n - col0);
        const float* b = w.panel(panel) + k0 * width;
        for (size_t rb = rb0; rb < rb1; ++rb) {
          const size_t r0 = plan.rowBegin(rb), rows = plan.rowBegin(rb + 1) - r0;
          TileOutput out;
          out.c = y + r0 * ldy + col0;
          out.ldc = ldy;
          out.columns = columns;
          out.beta = kb == 0 ? 0.0f : 1.0f;
          out.bias = last && epilogue.bias ? epilogue.bias + col0 : nullptr;
          isa.tile(rows, kc, a + r0 * lda + k0, lda, b, width, out);
          if (!last || (!activation && !epilogue.residual)) continue;
          // The tile is still in L1.
          for (size_t r = 0; r < rows; ++r) {
            float* row = out.c + r * ldy;
            if (activation) activation(row, row, columns);
            if (epilogue.residual) {
              vector.add(row, epilogue.residual + (r0 + r) * epilogue.residualStride + col0, row, columns);
            }
          }
        }
      }
    }
  });
}

namespace {

void runGemm(bool allowThreads, size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda, bool transA,
             const float* b, size_t ldb, bool transB, float beta, float* c, size_t ldc) {
  const FloatKernels& isa = activeKernels();
  const Plan plan = makePlan(isa, m, n, k, allowThreads);
  const size_t width = isa.panelWidth;
  runItems(plan, [&](size_t rb0, size_t rb1, size_t p0, size_t p1) {
    thread_local int8::ByteBuffer panelScratch, rowScratch;
    float* panelBuffer = scratch(panelScratch, plan.kc * width);
    const size_t itemRow0 = plan.rowBegin(rb0);
    float* rowBuffer = transA ? scratch(rowScratch, (plan.rowBegin(rb1) - itemRow0) * plan.kc) : nullptr;
    for (size_t kb = 0; kb < plan.kBlocks; ++kb) {
      const size_t k0 = kb * plan.kc, kc = std::min(plan.kc, k - k0);
      // The item's rows of op(A): A itself, or for transA a row-major copy (stride kc).
      const float* rows0 = rowBuffer;
      size_t rowStride = kc;
      if (transA) {
        isa.transpose(a + k0 * lda + itemRow0, lda, kc, plan.rowBegin(rb1) - itemRow0, rowBuffer, kc);
      } else {
        rows0 = a + itemRow0 * lda + k0;
        rowStride = lda;
      }
      for (size_t panel = p0; panel < p1; ++panel) {
        const size_t col0 = panel * width, columns = std::min(width, n - col0);
        // A single row block reads a full panel of B in place: with no other rows to reuse
        // a packed copy, packing would only add a pass over B.
        const float* panelB = panelBuffer;
        size_t bStride = width;
        if (!transB && columns == width && plan.rowBlocks == 1) {
          panelB = b + k0 * ldb + col0;
          bStride = ldb;
        } else {
          packPanel(isa, b, ldb, transB, k0, kc, col0, columns, panelBuffer);
        }
        for (size_t rb = rb0; rb < rb1; ++rb) {
          const size_t r0 = plan.rowBegin(rb), rows = plan.rowBegin(rb + 1) - r0;
          TileOutput out;
          out.c = c + r0 * ldc + col0;
          out.ldc = ldc;
          out.columns = columns;
          out.alpha = alpha;
          out.beta = kb == 0 ? beta : 1.0f;
          isa.tile(rows, kc, rows0 + (r0 - itemRow0) * rowStride, rowStride, panelB, bStride, out);
        }
      }
    }
  });
}

}  // namespace

void gemmSerial(size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda, bool transA,
                const float* b, size_t ldb, bool transB, float beta, float* c, size_t ldc) {
  runGemm(false, m, n, k, alpha, a, lda, transA, b, ldb, transB, beta, c, ldc);
}

void gemm(size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda, bool transA,
          const float* b, size_t ldb, bool transB, float beta, float* c, size_t ldc) {
  runGemm(true, m, n, k, alpha, a, lda, transA, b, ldb, transB, beta, c, ldc);
}

}  // namespace onnxforge::fgemm
