// AMX int8 kernels (tdpbusd on 16 x 64-byte tiles). B uses the AVX512-VNNI panel
// layout with k padded to 64: rows of a panel are k-groups of 4, so a 16-row,
// 64-byte slice of a panel is exactly a B tile (16 k-groups x 16 columns).
// A is packed with rows padded to 16 and k to 64; C tiles go to a scratch block
// and through the AVX-512 epilogue. Each call covers 32 x 32 outputs with four
// C tiles, two A tiles and two B tiles, so every tile load feeds two tdpbusd.
// GCC 12's AVX-512 headers initialize "undefined" vectors from themselves, which
// -Wuninitialized reports at every use of an intrinsic that has one.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "int8_avx512vnni.h"
#include "int8_isa.h"

namespace onnxforge::int8 {
namespace {

constexpr size_t kPanel = 64;
constexpr size_t kTileRows = 16;
constexpr size_t kTileBytes = 64;
// Below this many rows a call is B-bandwidth bound and the VNNI tile, which
// computes no padding rows, is at least as fast.
constexpr size_t kMinAmxRows = 8;

struct alignas(64) TileConfig {
  uint8_t paletteId = 1;
  uint8_t startRow = 0;
  uint8_t reserved[14] = {};
  uint16_t bytesPerRow[16] = {};
  uint8_t rows[16] = {};
};

TileConfig fullTiles() {
  TileConfig config;
  for (int t = 0; t < 8; ++t) {
    config.bytesPerRow[t] = kTileBytes;
    config.rows[t] = kTileRows;
  }
  return config;
}

#if defined(ONNXFORGE_AMX_EMULATE)
// Test builds run this file on machines without AMX: the tile instructions
// follow the Intel SDM pseudocode on a per-thread register file.
struct EmulatedTiles {
  TileConfig config;
  uint8_t data[8][kTileRows][kTileBytes] = {};
};
thread_local EmulatedTiles emulated;

void emulatedLoad(int t, const void* base, size_t stride) {
  for (int r = 0; r < emulated.config.rows[t]; ++r) {
    std::memcpy(emulated.data[t][r], static_cast<const uint8_t*>(base) + r * stride, emulated.config.bytesPerRow[t]);
  }
}
void emulatedStore(int t, void* base, size_t stride) {
  for (int r = 0; r < emulated.config.rows[t]; ++r) {
    std::memcpy(static_cast<uint8_t*>(base) + r * stride, emulated.data[t][r], emulated.config.bytesPerRow[t]);
  }
}
void emulatedDot(int c, int a, int b) {
  const TileConfig& cfg = emulated.config;
  for (int m = 0; m < cfg.rows[c]; ++m) {
    for (int k = 0; k < cfg.bytesPerRow[a] / 4; ++k) {
      for (int n = 0; n < cfg.bytesPerRow[c] / 4; ++n) {
        uint32_t sum;  // int32 sums wrap
        std::memcpy(&sum, &emulated.data[c][m][4 * n], 4);
        for (int i = 0; i < 4; ++i) {
          sum += static_cast<uint32_t>(static_cast<int32_t>(emulated.data[a][m][4 * k + i]) *
                                       static_cast<int8_t>(emulated.data[b][k][4 * n + i]));
        }
        std::memcpy(&emulated.data[c][m][4 * n], &sum, 4);
      }
    }
  }
}
#define LOAD_CONFIG(tileConfig) (emulated.config = *(tileConfig))
#define RELEASE_TILES() (emulated = EmulatedTiles{})
#define LOAD_TILE(t, base, stride) emulatedLoad(t, base, stride)
#define STORE_TILE(t, base, stride) emulatedStore(t, base, stride)
#define ZERO_TILE(t) std::memset(emulated.data[t], 0, sizeof(emulated.data[t]))
#define DOT_TILES(c, a, b) emulatedDot(c, a, b)
#else
// The tile intrinsics are macros that paste the tile number into the
// instruction, so these take literal tile numbers.
#define LOAD_CONFIG(tileConfig) _tile_loadconfig(tileConfig)
#define RELEASE_TILES() _tile_release()
#define LOAD_TILE(t, base, stride) _tile_loadd(t, base, stride)
#define STORE_TILE(t, base, stride) _tile_stored(t, base, stride)
#define ZERO_TILE(t) _tile_zero(t)
#define DOT_TILES(c, a, b) _tile_dpbusd(c, a, b)
#endif

// Tiles: 0..3 C (row tile i, column tile j at 2i + j), 4..5 A, 6..7 B.
template <bool TwoRows, bool TwoColumns>
void tileBlock(const uint8_t* a, size_t aStride, const int8_t* b, size_t bStride, size_t kSteps,
               int32_t* c, size_t cStrideBytes) {
  ZERO_TILE(0);
  if (TwoColumns) ZERO_TILE(1);
  if (TwoRows) ZERO_TILE(2);
  if (TwoRows && TwoColumns) ZERO_TILE(3);
  for (size_t s = 0; s < kSteps; ++s) {
    const uint8_t* as = a + s * kTileBytes;
    const int8_t* bs = b + s * kTileRows * bStride;
    LOAD_TILE(4, as, aStride);
    LOAD_TILE(6, bs, bStride);
    if (TwoColumns) LOAD_TILE(7, bs + kTileBytes, bStride);
    if (TwoRows) LOAD_TILE(5, as + kTileRows * aStride, aStride);
    DOT_TILES(0, 4, 6);
    if (TwoColumns) DOT_TILES(1, 4, 7);
    if (TwoRows) DOT_TILES(2, 5, 6);
    if (TwoRows && TwoColumns) DOT_TILES(3, 5, 7);
  }
  auto* cBytes = reinterpret_cast<uint8_t*>(c);
  size_t down = kTileRows * cStrideBytes;
  STORE_TILE(0, cBytes, cStrideBytes);
  if (TwoColumns) STORE_TILE(1, cBytes + kTileBytes, cStrideBytes);
  if (TwoRows) STORE_TILE(2, cBytes + down, cStrideBytes);
  if (TwoRows && TwoColumns) STORE_TILE(3, cBytes + down + kTileBytes, cStrideBytes);
}

std::vector<int32_t>& scratchFor(size_t values) {
  thread_local std::vector<int32_t> scratch;
  if (scratch.size() < values) scratch.resize(values);
  return scratch;
}

void tile(const GemmTask& task, size_t rowBegin, size_t rowEnd, size_t panel) {
  if (task.m < kMinAmxRows) {
    tileAvx512(task, rowBegin, std::min(rowEnd, task.m), panel);
    return;
  }
  const PackedWeights& w = *task.w;
  const IsaKernels& isa = amxKernels();
  size_t width = panelColumns(isa, w, panel);
  size_t columnTiles = width / 16;
  size_t bStride = width * 4;
  const auto* b = reinterpret_cast<const int8_t*>(w.data.data()) + panelOffsetElements(isa, w, panel);
  size_t kSteps = w.kPadded / kTileBytes;
  // rowBegin and rowEnd are multiples of 16: rows are padded and tiles are multiples of 48.
  int32_t* acc = scratchFor((rowEnd - rowBegin) * kPanel).data();
  size_t cStrideBytes = kPanel * sizeof(int32_t);

  static const TileConfig config = fullTiles();
  LOAD_CONFIG(&config);
  for (size_t r = rowBegin; r < rowEnd; r += 2 * kTileRows) {
    bool twoRows = rowEnd - r >= 2 * kTileRows;
    const uint8_t* ar = task.a + r * task.aStride;
    for (size_t t = 0; t < columnTiles; t += 2) {
      bool twoColumns = columnTiles - t >= 2;
      const int8_t* bt = b + t * kTileBytes;
      int32_t* ct = acc + (r - rowBegin) * kPanel + t * 16;
      if (twoRows && twoColumns) {
        tileBlock<true, true>(ar, task.aStride, bt, bStride, kSteps, ct, cStrideBytes);
      } else if (twoRows) {
        tileBlock<true, false>(ar, task.aStride, bt, bStride, kSteps, ct, cStrideBytes);
      } else if (twoColumns) {
        tileBlock<false, true>(ar, task.aStride, bt, bStride, kSteps, ct, cStrideBytes);
      } else {
        tileBlock<false, false>(ar, task.aStride, bt, bStride, kSteps, ct, cStrideBytes);
      }
    }
  }
  RELEASE_TILES();
  epilogueAvx512(task, acc, kPanel, rowBegin, std::min(rowEnd, task.m), panel * kPanel, width);
}

double peakMacsPerSecond(double seconds) {
  alignas(64) static uint8_t a[kTileRows * kTileBytes];
  alignas(64) static int8_t b[kTileRows * kTileBytes];
  alignas(64) static int32_t c[4][kTileRows * 16];
  static const TileConfig config = fullTiles();
  LOAD_CONFIG(&config);
  LOAD_TILE(4, a, kTileBytes);
  LOAD_TILE(5, a, kTileBytes);
  LOAD_TILE(6, b, kTileBytes);
  LOAD_TILE(7, b, kTileBytes);
  ZERO_TILE(0);
  ZERO_TILE(1);
  ZERO_TILE(2);
  ZERO_TILE(3);
  // The best of short slices: on a shared machine other load only ever slows a slice down.
  double best = 0, spent = 0;
  while (spent < seconds) {
    auto start = std::chrono::steady_clock::now();
    for (int rep = 0; rep < 1024; ++rep) {
      DOT_TILES(0, 4, 6);
      DOT_TILES(1, 4, 7);
      DOT_TILES(2, 5, 6);
      DOT_TILES(3, 5, 7);
    }
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, (1024.0 * 4 * kTileRows * 16 * kTileBytes) / elapsed);
    spent += elapsed;
  }
  STORE_TILE(0, c[0], 64);
  STORE_TILE(1, c[1], 64);
  STORE_TILE(2, c[2], 64);
  STORE_TILE(3, c[3], 64);
  RELEASE_TILES();
  return best;
}

}  // namespace

const IsaKernels& amxKernels() {
  static const IsaKernels table = {IsaLevel::Amx, kPanel, 16, kTileBytes, kTileRows, 1,
                                   packBAvx512, packAAvx512, quantizeRowsAvx512, tile, peakMacsPerSecond};
  return table;
}

}  // namespace onnxforge::int8
