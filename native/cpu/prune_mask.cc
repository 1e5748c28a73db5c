#include "prune_mask.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

namespace onnxforge::sparse {
namespace {

// |w| as an integer that orders like the magnitude: the float's bits without the sign.
inline uint32_t magnitudeKey(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  return bits & 0x7fffffffu;
}

// Keeps the `keep` largest magnitudes. Radix select on the 31-bit key: a histogram
// of the high 15 bits finds the threshold's bucket, a second one over that bucket
// its low 16 bits; ties at the threshold are kept in index order.
void unstructuredMask(const float* w, size_t count, size_t keep, uint8_t* mask) {
  if (keep == 0 || keep == count) {
    std::memset(mask, keep ? 1 : 0, count);
    return;
  }
  std::vector<size_t> high(1u << 15, 0);
  for (size_t i = 0; i < count; ++i) ++high[magnitudeKey(w[i]) >> 16];
  size_t above = 0;  // elements in buckets above the threshold's
  uint32_t bucket = (1u << 15) - 1;
  while (above + high[bucket] < keep) above += high[bucket--];

  std::vector<size_t> low(1u << 16, 0);
  for (size_t i = 0; i < count; ++i) {
    uint32_t key = magnitudeKey(w[i]);
    if ((key >> 16) == bucket) ++low[key & 0xffffu];
  }
  uint32_t lowBits = 0xffffu;
  while (above + low[lowBits] < keep) above += low[lowBits--];
  uint32_t threshold = (bucket << 16) | lowBits;

  size_t ties = keep - above;  // elements equal to the threshold that stay
  for (size_t i = 0; i < count; ++i) {
    uint32_t key = magnitudeKey(w[i]);
    bool kept = key > threshold || (key == threshold && ties > 0);
    if (key == threshold && kept) --ties;
    mask[i] = kept ? 1 : 0;
  }
}

void nmMask(const float* w, size_t k, size_t n, size_t keepN, size_t groupM, uint8_t* mask) {
  std::vector<uint32_t> keys(groupM);
  for (size_t g0 = 0; g0 < k; g0 += groupM) {
    size_t size = std::min(groupM, k - g0);
    for (size_t j = 0; j < n; ++j) {
      for (size_t r = 0; r < size; ++r) keys[r] = magnitudeKey(w[(g0 + r) * n + j]);
      // An element stays when fewer than keepN others rank above it (larger, or equal and earlier).
      for (size_t r = 0; r < size; ++r) {
        size_t rank = 0;
        for (size_t o = 0; o < size; ++o) {
          rank += keys[o] > keys[r] || (keys[o] == keys[r] && o < r);
        }
        mask[(g0 + r) * n + j] = rank < keepN ? 1 : 0;
      }
    }
  }
}

void blockMask(const float* w, size_t k, size_t n, const PruneSpec& spec, uint8_t* mask) {
  size_t rowsOfBlocks = (k + spec.blockK - 1) / spec.blockK;
  size_t colsOfBlocks = (n + spec.blockN - 1) / spec.blockN;
  size_t blocks = rowsOfBlocks * colsOfBlocks;
  std::vector<double> norm(blocks, 0.0);
  for (size_t i = 0; i < k; ++i) {
    double* rowNorms = norm.data() + (i / spec.blockK) * colsOfBlocks;
    const float* row = w + i * n;
    for (size_t j = 0; j < n; ++j) {
      double v = row[j];
      rowNorms[j / spec.blockN] += v * v;
    }
  }
  size_t keep = blocks - spec.zeros;
  std::vector<uint8_t> keepBlock(blocks, keep == blocks ? 1 : 0);
  if (keep > 0 && keep < blocks) {
    std::vector<size_t> order(blocks);
    std::iota(order.begin(), order.end(), size_t{0});
    // Squared norms rank like norms; equal norms keep the lower block index first.
    auto ranksAbove = [&](size_t a, size_t b) { return norm[a] > norm[b] || (norm[a] == norm[b] && a < b); };
    std::nth_element(order.begin(), order.begin() + keep, order.end(), ranksAbove);
    for (size_t i = 0; i < keep; ++i) keepBlock[order[i]] = 1;
  }
  for (size_t i = 0; i < k; ++i) {
    const uint8_t* rowBlocks = keepBlock.data() + (i / spec.blockK) * colsOfBlocks;
    uint8_t* row = mask + i * n;
    for (size_t j = 0; j < n; ++j) row[j] = rowBlocks[j / spec.blockN];
  }
}

}  // namespace

size_t firstNaN(const float* w, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (std::isnan(w[i])) return i;
  }
  return count;
}

void pruneMask(const float* w, size_t k, size_t n, const PruneSpec& spec, uint8_t* mask) {
  size_t count = k * n;
  if (count == 0) return;
  switch (spec.pattern) {
    case PrunePattern::Unstructured: unstructuredMask(w, count, count - spec.zeros, mask); break;
    case PrunePattern::NM: nmMask(w, k, n, spec.keepN, spec.groupM, mask); break;
    case PrunePattern::Block: blockMask(w, k, n, spec, mask); break;
  }
}

}  // namespace onnxforge::sparse
