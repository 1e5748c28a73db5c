// Magnitude pruning masks: which weights of W (k x n, row-major, y = x * W) to keep.
#pragma once
#include <cstddef>
#include <cstdint>

namespace onnxforge::sparse {

enum class PrunePattern {
  // Exactly `zeros` elements of W become zero: the smallest by |w|.
  Unstructured,
  // In every group of groupM consecutive rows of one column (along k, the reduction axis),
  // the keepN largest by |w| stay. A last group shorter than groupM keeps min(keepN, its size).
  NM,
  // W tiles into blocks of blockK x blockN (edge blocks are smaller); exactly `zeros`
  // blocks become zero: those with the smallest L2 norm.
  Block,
};

struct PruneSpec {
  PrunePattern pattern = PrunePattern::Unstructured;
  size_t zeros = 0;  // elements (Unstructured) or blocks (Block) to zero
  size_t keepN = 0, groupM = 0;
  size_t blockK = 4, blockN = 1;
};

// Blocks the Block pattern tiles W into.
inline size_t blockCount(size_t k, size_t n, const PruneSpec& spec) {
  return ((k + spec.blockK - 1) / spec.blockK) * ((n + spec.blockN - 1) / spec.blockN);
}

// Writes mask[i] = 1 to keep w[i], 0 to prune it. Ranks are by magnitude; equal
// magnitudes (or norms) keep the lower index first, so the mask is deterministic.
// Selection is by threshold (histogram of magnitude bits), never a full sort.
// w must not hold NaN (see firstNaN).
void pruneMask(const float* w, size_t k, size_t n, const PruneSpec& spec, uint8_t* mask);

// Index of the first NaN in w, or count when there is none.
size_t firstNaN(const float* w, size_t count);

}  // namespace onnxforge::sparse
