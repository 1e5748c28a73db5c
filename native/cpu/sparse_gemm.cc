// Packing of sparse weights and dispatch of the sparse kernels: the transposed
// activation tiles and the split of a product over the thread pool. The
// arithmetic lives in the ISA files (sparse_scalar.cc, sparse_avx2.cc, ...).
#include "sparse_gemm.h"

#include <algorithm>
#include <cstring>

#include "int8_rows.h"
#include "isa_dispatch.h"
#include "sparse_isa.h"
#include "thread_pool.h"

namespace onnxforge::sparse {
namespace {

constexpr size_t kNarrowIndexLimit = size_t{1} << 16;
constexpr size_t kGroup = 4;  // rows per int8 entry (the VNNI dot product's depth)

// The sparse family, best first; the AMX level runs the AVX-512 kernels.
const IsaEntry<SparseKernels> kFamily[] = {
#if defined(ONNXFORGE_X86)
    {IsaLevel::Avx512Vnni, avx512SparseKernels},
    {IsaLevel::Avx2, avx2SparseKernels},
#endif
    {IsaLevel::Scalar, scalarSparseKernels},
};

const SparseKernels& activeKernels() {
  static const SparseKernels& table = selectIsa(kFamily, dispatchLevel());
  return table;
}

void allocateEntries(PackedSparse& w, size_t valueBytes) {
  size_t entries = w.entries();
  w.index = int8::ByteBuffer(std::max<size_t>(entries, 1) * (w.wideIndex ? 4 : 2));
  w.values = int8::ByteBuffer(std::max<size_t>(entries, 1) * valueBytes);
}

void setIndex(PackedSparse& w, size_t entry, size_t value) {
  if (w.wideIndex) {
    w.index.as<uint32_t>()[entry] = static_cast<uint32_t>(value);
  } else {
    w.index.as<uint16_t>()[entry] = static_cast<uint16_t>(value);
  }
}

// A per-thread buffer reused across calls (no page faults per call), or a fresh one
// when buffers are placed against guard pages, where each must end (start) at its page.
int8::ByteBuffer& scratch(size_t bytes) {
  thread_local int8::ByteBuffer cached;
  thread_local int8::ByteBuffer fresh;
  bytes = std::max<size_t>(bytes, 1);
  if (!int8::buffersOnHeap()) {
    fresh = int8::ByteBuffer(bytes);
    return fresh;
  }
  if (cached.size() < bytes) cached = int8::ByteBuffer(bytes);
  return cached;
}

// Turns per-column counts (in columnStart[1..n]) into offsets.
void prefixSum(std::vector<size_t>& columnStart) {
  for (size_t j = 1; j < columnStart.size(); ++j) columnStart[j] += columnStart[j - 1];
}

// Work items: tiles of x's rows times runs of `run` columns, few enough per chunk that the pool
// balances uneven columns.
template <typename Body>
void forEachTile(size_t rowTiles, size_t n, double work, Body&& body, size_t run = kColumnsPerCall) {
  size_t columnRuns = (n + run - 1) / run;
  size_t items = rowTiles * columnRuns;
  auto runItems = [&](size_t begin, size_t end) {
    for (size_t item = begin; item < end; ++item) {
      size_t c0 = (item % columnRuns) * run;
      body(item / columnRuns, c0, std::min(n, c0 + run));
    }
  };
  // Below this many multiply-adds waking the pool costs more than it saves.
  constexpr double kSerialWork = 1 << 16;
  int threads = getNumThreads();
  if (work < kSerialWork || threads == 1 || items == 1) {
    runItems(0, items);
  } else {
    parallelFor(items, std::max<size_t>(1, items / (static_cast<size_t>(threads) * 16)), runItems);
  }
}

}  // namespace

double sparsityOf(size_t k, size_t n, size_t nonzeros) {
  double total = static_cast<double>(k) * static_cast<double>(n);
  return total == 0 ? 0.0 : 1.0 - static_cast<double>(nonzeros) / total;
}

double PackedSparse::sparsity() const { return sparsityOf(k, n, nonzeros); }

size_t PackedSparse::bytes() const {
  return index.size() + values.size() + twoFour.size() + chunkRow.size() + chunkValue.size() +
         (columnStart.size() + chunkStart.size()) * sizeof(size_t) +
         columnSum.size() * sizeof(int32_t) + scale.size() * sizeof(float);
}

IsaLevel sparseIsa() { return activeKernels().isa; }

bool findTwoFourViolation(const void* w, WeightType type, size_t k, size_t n, size_t* row, size_t* column) {
  std::vector<uint8_t> count(n);
  for (size_t g0 = 0; g0 < k; g0 += kGroup) {
    std::fill(count.begin(), count.end(), 0);
    for (size_t kk = g0; kk < std::min(k, g0 + kGroup); ++kk) {
      for (size_t j = 0; j < n; ++j) {
        bool nonzero = type == WeightType::Float32 ? static_cast<const float*>(w)[kk * n + j] != 0.0f
                                                   : static_cast<const int8_t*>(w)[kk * n + j] != 0;
        count[j] += nonzero;
      }
    }
    for (size_t j = 0; j < n; ++j) {
      if (count[j] > 2) {
        *row = g0;
        *column = j;
        return true;
      }
    }
  }
  return false;
}

namespace {

// The float32 2:4 layout (see sparse_gemm.h); w is known to be 2:4 sparse.
void packTwoFour(const float* w, PackedSparse& p) {
  constexpr size_t kPanel = PackedSparse::kPanel;
  const size_t k = p.k, n = p.n, groups = p.groups();
  p.twoFour = int8::ByteBuffer(p.panels() * groups * PackedSparse::kTwoFourGroupBytes, true);
  for (size_t panel = 0; panel < p.panels(); ++panel) {
    for (size_t g = 0; g < groups; ++g) {
      uint8_t* block = p.twoFour.data() + (panel * groups + g) * PackedSparse::kTwoFourGroupBytes;
      auto* first = reinterpret_cast<float*>(block);
      float* second = first + kPanel;
      uint8_t* rows = block + 2 * kPanel * sizeof(float);
      for (size_t c = 0; c < kPanel && panel * kPanel + c < n; ++c) {
        size_t j = panel * kPanel + c, slot = 0;
        for (size_t q = 0; q < 4 && 4 * g + q < k; ++q) {
          float v = w[(4 * g + q) * n + j];
          if (v == 0.0f) continue;
          (slot == 0 ? first : second)[c] = v;
          rows[c] |= static_cast<uint8_t>(q << (2 * slot));
          ++slot;
          ++p.nonzeros;
        }
      }
    }
  }
}

// The chunk-major copy of the float entries (see PackedSparse::chunkStart), from W itself.
void packChunks(const float* w, PackedSparse& p) {
  constexpr size_t kRows = PackedSparse::kChunkRows;
  const size_t k = p.k, n = p.n, chunks = p.chunks();
  p.chunkStart.assign(chunks * n + 1, 0);
  for (size_t kk = 0; kk < k; ++kk) {
    const float* row = w + kk * n;
    size_t* counts = p.chunkStart.data() + (kk / kRows) * n + 1;
    for (size_t j = 0; j < n; ++j) counts[j] += row[j] != 0.0f;
  }
  prefixSum(p.chunkStart);
  const size_t entries = p.chunkStart.back();
  p.chunkRow = int8::ByteBuffer(std::max<size_t>(entries, 1));
  p.chunkValue = int8::ByteBuffer(std::max<size_t>(entries, 1) * sizeof(float));
  std::vector<size_t> next(p.chunkStart.begin(), p.chunkStart.end() - 1);
  uint8_t* rows = p.chunkRow.data();
  float* values = p.chunkValue.as<float>();
  for (size_t kk = 0; kk < k; ++kk) {
    const float* row = w + kk * n;
    size_t* cursor = next.data() + (kk / kRows) * n;
    for (size_t j = 0; j < n; ++j) {
      if (row[j] == 0.0f) continue;
      rows[cursor[j]] = static_cast<uint8_t>(kk % kRows);
      values[cursor[j]++] = row[j];
    }
  }
}

}  // namespace

std::unique_ptr<PackedSparse> packFloat(const float* w, size_t k, size_t n, SparsePattern pattern) {
  auto packed = std::make_unique<PackedSparse>();
  PackedSparse& p = *packed;
  p.type = WeightType::Float32;
  p.pattern = pattern;
  p.k = k;
  p.n = n;
  if (pattern == SparsePattern::TwoFour && k > 0 && n > 0) {
    packTwoFour(w, p);
    return packed;
  }
  p.wideIndex = k > kNarrowIndexLimit;
  p.columnStart.assign(n + 1, 0);
  for (size_t kk = 0; kk < k; ++kk) {
    const float* row = w + kk * n;
    for (size_t j = 0; j < n; ++j) p.columnStart[j + 1] += row[j] != 0.0f;
  }
  prefixSum(p.columnStart);
  p.nonzeros = p.entries();
  allocateEntries(p, sizeof(float));
  // Rows in increasing order within each column: the kernels walk x's rows forward.
  std::vector<size_t> next(p.columnStart.begin(), p.columnStart.end() - 1);
  float* values = p.values.as<float>();
  for (size_t kk = 0; kk < k; ++kk) {
    const float* row = w + kk * n;
    for (size_t j = 0; j < n; ++j) {
      if (row[j] == 0.0f) continue;
      setIndex(p, next[j], kk);
      values[next[j]++] = row[j];
    }
  }
  packChunks(w, p);
  return packed;
}

std::unique_ptr<PackedSparse> packInt8(const int8_t* w, size_t k, size_t n, SparsePattern pattern,
                                       const float* scales, size_t scaleCount) {
  auto packed = std::make_unique<PackedSparse>();
  PackedSparse& p = *packed;
  p.type = WeightType::Int8;
  p.pattern = pattern;
  p.k = k;
  p.n = n;
  size_t groups = (k + kGroup - 1) / kGroup;
  p.wideIndex = groups > kNarrowIndexLimit;
  p.columnStart.assign(n + 1, 0);
  std::vector<uint8_t> groupNonzero(n);
  for (size_t g0 = 0; g0 < k; g0 += kGroup) {
    std::fill(groupNonzero.begin(), groupNonzero.end(), 0);
    for (size_t kk = g0; kk < std::min(k, g0 + kGroup); ++kk) {
      const int8_t* row = w + kk * n;
      for (size_t j = 0; j < n; ++j) {
        groupNonzero[j] |= row[j] != 0;
        p.nonzeros += row[j] != 0;
      }
    }
    for (size_t j = 0; j < n; ++j) p.columnStart[j + 1] += groupNonzero[j];
  }
  prefixSum(p.columnStart);
  allocateEntries(p, kGroup);
  std::vector<size_t> next(p.columnStart.begin(), p.columnStart.end() - 1);
  int8_t* values = p.values.as<int8_t>();
  for (size_t g0 = 0; g0 < k; g0 += kGroup) {
    for (size_t j = 0; j < n; ++j) {
      int8_t group[kGroup] = {};
      bool any = false;
      for (size_t q = 0; q < kGroup && g0 + q < k; ++q) {
        group[q] = w[(g0 + q) * n + j];
        any = any || group[q] != 0;
      }
      if (!any) continue;
      setIndex(p, next[j], g0 / kGroup);
      std::memcpy(values + kGroup * next[j]++, group, kGroup);
    }
  }
  // Wraps like the kernels' int32 arithmetic.
  std::vector<int64_t> sums(n, 0);
  for (size_t kk = 0; kk < k; ++kk) {
    for (size_t j = 0; j < n; ++j) sums[j] += w[kk * n + j];
  }
  p.columnSum.resize(n);
  for (size_t j = 0; j < n; ++j) p.columnSum[j] = static_cast<int32_t>(static_cast<uint32_t>(sums[j]));
  if (scaleCount) {
    p.perColumnScale = scaleCount > 1;
    p.scale.resize(n);
    for (size_t j = 0; j < n; ++j) p.scale[j] = scales[scaleCount == 1 ? 0 : j];
  }
  return packed;
}

namespace {

void matmulTwoFour(const SparseKernels& isa, const float* x, size_t m, const PackedSparse& w, const float* bias,
                   float* y) {
  TwoFourTile tile;
  tile.w = &w;
  tile.y = y;
  tile.bias = bias;
  tile.x = x;
  tile.xStride = w.k;
  // The kernels read x a group of 4 at a time: rows padded to whole groups when k is not.
  int8::ByteBuffer padded;
  if (w.k % 4 != 0) {
    tile.xStride = w.groups() * 4;
    padded = int8::ByteBuffer(m * tile.xStride * sizeof(float), true);
    for (size_t i = 0; i < m; ++i) std::memcpy(padded.as<float>() + i * tile.xStride, x + i * w.k, w.k * sizeof(float));
    tile.x = padded.as<float>();
  }
  // Items: 48 rows (a multiple of every kernel's row block) x 4 panels (64 columns).
  constexpr size_t kRows = 48, kPanels = 4;
  const size_t rowBlocks = (m + kRows - 1) / kRows, panelRuns = (w.panels() + kPanels - 1) / kPanels;
  auto body = [&](size_t begin, size_t end) {
    for (size_t item = begin; item < end; ++item) {
      size_t r0 = (item / panelRuns) * kRows, p0 = (item % panelRuns) * kPanels;
      isa.twoFour(tile, r0, std::min(m, r0 + kRows), p0, std::min(w.panels(), p0 + kPanels));
    }
  };
  double work = static_cast<double>(m) * static_cast<double>(w.k) * static_cast<double>(w.n) / 2;
  if (work < (1 << 16) || getNumThreads() == 1) {
    body(0, rowBlocks * panelRuns);
  } else {
    parallelFor(rowBlocks * panelRuns, 1, body);
  }
}

}  // namespace

namespace {

// The multi-row float product: x's rows by tiles of `lanes`, each transposed by transposeTile(t, rows,
// xT) (xT[kk * lanes + i] = row t * lanes + i, value kk), then every column over it.
template <typename TransposeTile>
void floatTiles(const SparseKernels& isa, size_t m, const PackedSparse& w, const float* bias, float* y,
                TransposeTile&& transposeTile) {
  const size_t k = w.k, n = w.n;
  const double work = static_cast<double>(m) * static_cast<double>(w.entries() + n);
  const size_t lanes = isa.floatLanes(m);
  const size_t rowTiles = (m + lanes - 1) / lanes;
  auto tileAt = [&](const float* xT, size_t t) {
    FloatTile tile;
    tile.w = &w;
    tile.y = y;
    tile.bias = bias;
    tile.xT = xT;
    tile.lanes = lanes;
    tile.rowBegin = t * lanes;
    tile.rows = std::min(lanes, m - tile.rowBegin);
    return tile;
  };
  const int threads = getNumThreads();
  if (threads == 1 || rowTiles >= 2 * static_cast<size_t>(threads)) {
    // Tiles enough for every thread (the convolutions' case): each thread transposes one tile at a
    // time into its own buffer and runs every column on it while it is still in cache.
    auto run = [&](size_t t0, size_t t1) {
      float* xT = scratch(k * lanes * sizeof(float)).as<float>();
      for (size_t t = t0; t < t1; ++t) {
        const FloatTile tile = tileAt(xT, t);
        transposeTile(t, tile.rows, lanes, xT);
        isa.floatColumns(tile, 0, n);
      }
    };
    if (threads == 1 || work < (1 << 16)) {
      run(0, rowTiles);
    } else {
      parallelFor(rowTiles, 1, run);
    }
    return;
  }
  // Few tiles: all of them transposed first, then the pool splits tiles x runs of columns.
  float* xTiles = scratch(rowTiles * k * lanes * sizeof(float)).as<float>();
  for (size_t t = 0; t < rowTiles; ++t) transposeTile(t, std::min(lanes, m - t * lanes), lanes, xTiles + t * k * lanes);
  // Runs of columns as long as still gives each thread a few: each run reads the tile's chunks once.
  const size_t perThread = (rowTiles * n + 4 * threads - 1) / (4 * static_cast<size_t>(threads));
  const size_t run = std::max(kColumnsPerCall, (perThread + kColumnsPerCall - 1) / kColumnsPerCall * kColumnsPerCall);
  forEachTile(rowTiles, n, work, [&](size_t t, size_t c0, size_t c1) { isa.floatColumns(tileAt(xTiles + t * k * lanes, t), c0, c1); }, run);
}

}  // namespace

void matmulFloat(const float* x, size_t m, const PackedSparse& w, const float* bias, float* y) {
  const SparseKernels& isa = activeKernels();
  const size_t k = w.k, n = w.n;
  if (m == 0 || n == 0) return;
  if (w.hasTwoFourLayout()) {
    matmulTwoFour(isa, x, m, w, bias, y);
    return;
  }
  if (m == 1) {
    FloatTile row;
    row.w = &w;
    row.y = y;
    row.bias = bias;
    row.x = x;
    row.rows = 1;
    const double work = static_cast<double>(w.entries() + n);
    forEachTile(1, n, work, [&](size_t, size_t c0, size_t c1) { isa.floatRow(row, c0, c1); });
    return;
  }
  floatTiles(isa, m, w, bias, y, [&](size_t t, size_t rows, size_t lanes, float* xT) {
    isa.transposeFloat(x + t * lanes * k, rows, k, lanes, xT);
  });
}

void matmulFloatPieces(const RowPieces& x, size_t m, const PackedSparse& w, const float* bias, float* y) {
  const SparseKernels& isa = activeKernels();
  if (m == 0 || w.n == 0) return;
  floatTiles(isa, m, w, bias, y, [&](size_t t, size_t rows, size_t lanes, float* xT) {
    isa.transposePieces(x, t * lanes, rows, lanes, xT);
  });
}

void linearInt8(const float* x, size_t m, const PackedSparse& w, const float* bias, float* y) {
  if (m == 0 || w.n == 0) return;
  linearInt8Rows(int8::quantizeRowsDynamic(x, m, w.k), w, bias, y);
}

void linearInt8Rows(const int8::QuantizedRows& q, const PackedSparse& w, const float* bias, float* y) {
  const SparseKernels& isa = activeKernels();
  const size_t m = q.m, k = w.k, n = w.n;
  if (m == 0 || n == 0) return;
  const size_t groups = (k + kGroup - 1) / kGroup;
  double work = static_cast<double>(m) * static_cast<double>(w.entries() * kGroup + n);
  Int8Tile base;
  base.w = &w;
  base.y = y;
  base.bias = bias;
  if (m == 1) {
    // The row padded to whole groups, read by 4-byte group.
    int8::ByteBuffer row(std::max<size_t>(groups, 1) * kGroup, true);
    std::memcpy(row.data(), q.values.data(), k);
    base.x = row.data();
    base.rows = 1;
    base.rowZeroPoint = q.zeroPoint.data();
    base.rowScale = q.scale.data();
    forEachTile(1, n, work, [&](size_t, size_t c0, size_t c1) { isa.int8Row(base, c0, c1); });
    return;
  }
  const size_t lanes = isa.int8Lanes(m);
  const size_t rowTiles = (m + lanes - 1) / lanes;
  // xT[t][g][i][q] = xq[t * lanes + i][4g + q]: one load gives each lane its group.
  const size_t tileBytes = groups * lanes * kGroup;
  int8::ByteBuffer& xT = scratch(rowTiles * tileBytes);
  std::memset(xT.data(), 0, rowTiles * tileBytes);
  for (size_t r = 0; r < m; ++r) {
    uint8_t* dst = xT.data() + (r / lanes) * tileBytes + (r % lanes) * kGroup;
    const uint8_t* src = q.values.data() + r * k;
    for (size_t kk = 0; kk < k; ++kk) dst[(kk / kGroup) * lanes * kGroup + kk % kGroup] = src[kk];
  }
  forEachTile(rowTiles, n, work, [&](size_t t, size_t c0, size_t c1) {
    Int8Tile tile = base;
    tile.xT = xT.data() + t * tileBytes;
    tile.lanes = lanes;
    tile.rowBegin = t * lanes;
    tile.rows = std::min(lanes, m - tile.rowBegin);
    tile.rowZeroPoint = q.zeroPoint.data() + tile.rowBegin;
    tile.rowScale = q.scale.data() + tile.rowBegin;
    isa.int8Columns(tile, c0, c1);
  });
}

}  // namespace onnxforge::sparse
