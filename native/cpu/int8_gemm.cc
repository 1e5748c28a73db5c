// Dispatch for the int8 kernels: packing, per-row parameters and the split of
// a product into tiles for the thread pool. The arithmetic lives in the ISA files.
#include "int8_gemm.h"

#include <algorithm>
#include <cstring>

#include "int8_isa.h"
#include "isa_dispatch.h"
#include "thread_pool.h"

namespace onnxforge::int8 {
namespace {

size_t roundUp(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// Rows per tile: the tile's A block (rows x packed k) should stay in L2 while the
// thread walks B panels. A multiple of 48 suits every kernel's row blocking (6, 16).
size_t rowsPerTile(size_t rows, size_t strideBytes) {
  constexpr size_t kL2Budget = 256 * 1024;
  size_t byCache = strideBytes ? kL2Budget / strideBytes : rows;
  size_t mc = std::clamp<size_t>(byCache / 48 * 48, 48, 480);
  return std::min(mc, rows);
}

// Products below this many multiply-adds finish before waking the pool would pay off.
constexpr double kSerialMacs = 1 << 20;

void runTiles(const GemmTask& task, const PackedActivations& a) {
  const PackedWeights& w = *task.w;
  if (a.m == 0 || w.n == 0) return;
  const IsaKernels& isa = kernelsFor(w.isa);
  size_t panels = (w.nPadded + isa.panelWidth - 1) / isa.panelWidth;
  size_t mc = rowsPerTile(a.rowsPadded, a.stride);
  size_t rowTiles = (a.rowsPadded + mc - 1) / mc;
  size_t items = rowTiles * panels;
  auto body = [&](size_t begin, size_t end) {
    for (size_t item = begin; item < end; ++item) {
      size_t rowTile = item / panels, panel = item % panels;
      size_t r0 = rowTile * mc;
      isa.tile(task, r0, std::min(a.rowsPadded, r0 + mc), panel);
    }
  };
  double macs = static_cast<double>(a.m) * static_cast<double>(w.kPadded) * static_cast<double>(w.nPadded);
  if (macs < kSerialMacs || items == 1) {
    body(0, items);
  } else {
    parallelFor(items, 1, body);
  }
}

GemmTask taskFor(const PackedActivations& a, const PackedWeights& w) {
  GemmTask task;
  task.a = a.data.data();
  task.aStride = a.stride;
  task.rowSum = a.rowSum.data();
  task.rowZeroPoint = a.zeroPoint.data();
  task.rowScale = a.scale.empty() ? nullptr : a.scale.data();
  task.w = &w;
  task.m = a.m;
  task.n = w.n;
  return task;
}

PackedActivations emptyActivations(size_t m, size_t k, const PackedWeights& w) {
  const IsaKernels& isa = kernelsFor(w.isa);
  PackedActivations a;
  a.m = m;
  a.k = k;
  a.rowsPadded = roundUp(m, isa.rowAlign);
  a.stride = w.kPadded * isa.elementBytes;
  a.data = ByteBuffer(a.rowsPadded * a.stride);
  a.rowSum.assign(a.rowsPadded, 0);
  a.zeroPoint.assign(a.rowsPadded, 0);
  if (a.rowsPadded > m) std::memset(a.data.data() + m * a.stride, 0, (a.rowsPadded - m) * a.stride);
  return a;
}

// The int8 GEMM family, best first.
const IsaEntry<IsaKernels> kFamily[] = {
#if defined(ONNXFORGE_X86)
    {IsaLevel::Amx, amxKernels},
    {IsaLevel::Avx512Vnni, avx512VnniKernels},
    {IsaLevel::Avx2, avx2Kernels},
#endif
    {IsaLevel::Scalar, scalarKernels},
};

}  // namespace

const IsaKernels& kernelsFor(IsaLevel level) { return selectIsa(kFamily, level); }

const IsaKernels& activeKernels() {
  static const IsaKernels& table = kernelsFor(dispatchLevel());
  return table;
}

size_t PackedWeights::bytes() const {
  return data.size() + (zeroPoint.size() + columnSum.size()) * sizeof(int32_t) +
         scale.size() * sizeof(float);
}

IsaLevel int8Isa() { return activeKernels().isa; }

std::unique_ptr<PackedWeights> packWeights(const int8_t* b, size_t k, size_t n,
                                           const WeightOptions& options) {
  const IsaKernels& isa = activeKernels();
  auto w = std::make_unique<PackedWeights>();
  w->isa = isa.isa;
  w->k = k;
  w->n = n;
  w->kPadded = roundUp(k, isa.kAlign);
  w->nPadded = roundUp(n, isa.columnAlign);
  w->data = ByteBuffer(w->kPadded * w->nPadded * isa.elementBytes);
  isa.packB(b, k, n, w->kPadded, w->nPadded, w->data.data());

  w->zeroPoint.assign(w->nPadded, 0);
  w->perColumnZeroPoint = options.zeroPointCount > 1;
  for (size_t j = 0; j < n && options.zeroPointCount; ++j) {
    w->zeroPoint[j] = options.zeroPoints[options.zeroPointCount == 1 ? 0 : j];
    w->hasZeroPoint = w->hasZeroPoint || w->zeroPoint[j] != 0;
  }
  std::vector<int64_t> sums(n, 0);
  for (size_t kk = 0; kk < k; ++kk) {
    const int8_t* row = b + kk * n;
    for (size_t j = 0; j < n; ++j) sums[j] += row[j];
  }
  w->columnSum.assign(w->nPadded, 0);
  for (size_t j = 0; j < n; ++j) {
    // Wraps like the kernels' int32 arithmetic.
    uint64_t adjusted = static_cast<uint64_t>(sums[j]) -
                        static_cast<uint64_t>(k) * static_cast<uint64_t>(static_cast<int64_t>(w->zeroPoint[j]));
    w->columnSum[j] = static_cast<int32_t>(static_cast<uint32_t>(adjusted));
  }
  if (options.scaleCount) {
    w->perColumnScale = options.scaleCount > 1;
    w->scale.assign(w->nPadded, 0.0f);
    for (size_t j = 0; j < n; ++j) w->scale[j] = options.scales[options.scaleCount == 1 ? 0 : j];
  }
  return w;
}

PackedActivations packActivations(const void* a, bool isSigned, size_t m, size_t k,
                                  const void* aZeroPoints, size_t zeroPointCount,
                                  const PackedWeights& w) {
  const IsaKernels& isa = kernelsFor(w.isa);
  PackedActivations packed = emptyActivations(m, k, w);
  isa.packA(static_cast<const uint8_t*>(a), m, k, isSigned ? 0x80 : 0x00, packed.stride,
            packed.data.data(), packed.rowSum.data());
  // The kernels see A + 128 for int8 A, so its zero point moves by 128 too.
  int32_t shift = isSigned ? 128 : 0;
  for (size_t i = 0; i < m; ++i) {
    int32_t zp = 0;
    if (zeroPointCount) {
      size_t index = zeroPointCount == 1 ? 0 : i;
      zp = isSigned ? static_cast<const int8_t*>(aZeroPoints)[index]
                    : static_cast<const uint8_t*>(aZeroPoints)[index];
    }
    packed.zeroPoint[i] = zp + shift;
  }
  return packed;
}

PackedActivations quantizeActivations(const float* x, size_t m, size_t k, const PackedWeights& w) {
  const IsaKernels& isa = kernelsFor(w.isa);
  PackedActivations packed = emptyActivations(m, k, w);
  packed.scale.assign(packed.rowsPadded, 0.0f);
  isa.quantizeRows(x, m, k, packed.stride, packed.data.data(), packed.rowSum.data(),
                   packed.zeroPoint.data(), packed.scale.data());
  return packed;
}

void gemmInt32(const PackedActivations& a, const PackedWeights& w, int32_t* c) {
  GemmTask task = taskFor(a, w);
  task.c = c;
  runTiles(task, a);
}

void gemmFloat(const PackedActivations& a, const PackedWeights& w, const float* bias, float* y) {
  GemmTask task = taskFor(a, w);
  task.y = y;
  task.bias = bias;
  runTiles(task, a);
}

double measurePeakOpsPerSecond(double seconds) {
  return 2.0 * activeKernels().peakMacsPerSecond(seconds);
}

}  // namespace onnxforge::int8
