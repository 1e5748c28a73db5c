// Convolutions over NHWC tensors. Conv: each output pixel's window (im2col, one block of rows at a
// time so it stays in cache) times the layer's weights on whichever kernel they were packed for
// (dense, sparse, int8, sparse int8), one layer per group; a 1x1, stride-1 convolution reads its
// input in place. QConv: the same on activations a static QDQ model keeps quantized (padding holds
// the zero point). DepthwiseConv: its own loop over channels.
#include <algorithm>
#include <cmath>
#include <utility>
#include <cstring>
#include <type_traits>
#include <vector>

#include "../float_kernels.h"
#include "../op_kernel.h"
#include "conv_geometry.h"
#include "linear_rows.h"
#include "quantize.h"

namespace onnxforge::engine {
namespace {

// ints = geometry + [groups, activation]; step.linear = the first group's layer.
constexpr size_t kGroups = WindowGeometry::kParams, kActivation = kGroups + 1;

size_t groupsOf(const Step& step) { return static_cast<size_t>(step.ints[kGroups]); }

// Conv and DepthwiseConv may carry floats [scale, shift]: y = activation(...) * scale + shift.
struct PostAffine {
  bool on = false;
  float scale = 1, shift = 0;
  void apply(float* y, size_t count) const {
    if (!on) return;
    for (size_t i = 0; i < count; ++i) y[i] = y[i] * scale + shift;
  }
};

PostAffine postAffineOf(const Step& step) {
  if (step.floats.size() < 2) return {};
  return {true, step.floats[0], step.floats[1]};
}

void checkPostAffine(const Step& step) {
  if (!step.floats.empty() && step.floats.size() != 2) planError(step, "takes no floats or [scale, shift]");
}

// A QConv whose output a static QDQ model quantizes again: the float result of each block is quantized
// (scale, zero point, type of that QuantizeLinear) and mapped through a 256-entry code table (what an
// elementwise op between two quantize pairs does to each code; the identity otherwise), so the next
// QConv reads int8 codes with no float tensor in between.
struct OutputQuantization {
  float scale = 1;
  int32_t zeroPoint = 0;
  quant::QuantType type = quant::QuantType::Uint8;
  const uint8_t* table = nullptr;
  // codes[i] = table[codes[i]], indexing int8 codes from -128.
  void mapCodes(uint8_t* codes, size_t count) const {
    const uint8_t shift = type == quant::QuantType::Int8 ? 128 : 0;
    for (size_t i = 0; i < count; ++i) codes[i] = table[static_cast<uint8_t>(codes[i] + shift)];
  }
};

// Third input: QConv's code table (quantized output) or Conv's residual.
void checkConvCommon(const Step& step, const Plan& plan, DType inputType, bool thirdInput = false) {
  requireArity(step, 1, thirdInput ? 3 : 2, 1);
  requireInts(step, kActivation + 1);
  const WindowGeometry g = checkedWindowGeometry(step);
  const size_t groups = sizeParam(step, kGroups);
  if (step.ints[kActivation] < 0 || step.ints[kActivation] >= static_cast<int64_t>(Activation::Count)) planError(step, "unknown activation");
  if (groups == 0 || g.c % groups != 0 || g.oc % groups != 0) planError(step, "channels do not split into the groups");
  const ValueSlot& x = valueOf(step, plan, step.inputs[0], "x");
  requireDType(step, x, inputType, "x");
  requireCount(step, x, g.inputCount(), "x");
  const ValueSlot& y = valueOf(step, plan, step.outputs[0], "y");
  if (thirdInput && inputType != DType::Float32) {
    if (y.dtype != DType::Uint8 && y.dtype != DType::Int8) planError(step, "a quantized y must be uint8 or int8");
  } else {
    requireDType(step, y, DType::Float32, "y");
  }
  requireCount(step, y, g.outputCount(), "y");
  if (step.inputs.size() >= 2 && step.inputs[1] >= 0) {
    const ValueSlot& bias = valueOf(step, plan, step.inputs[1], "bias");
    requireDType(step, bias, DType::Float32, "bias");
    requireCount(step, bias, g.oc, "bias");
  }
  const size_t k = g.kh * g.kw * (g.c / groups), n = g.oc / groups;
  if (step.linear < 0 || static_cast<size_t>(step.linear) + groups > plan.weights->linears.size()) {
    planError(step, "refers to layers the model does not have");
  }
  for (size_t i = 0; i < groups; ++i) {
    const LinearWeights& w = plan.weights->linears[static_cast<size_t>(step.linear) + i];
    if (w.k != k || w.n != n) planError(step, "a group's layer does not match the window and channels");
    const bool int8Layer = w.kind == LinearKind::Int8 || w.kind == LinearKind::SparseInt8;
    if (int8Layer != (inputType != DType::Float32)) planError(step, "the layer's kernel does not take this input type");
  }
}

// Conv: inputs x, bias (or -1), residual (optional: y = activation(product + bias + residual), then the
// post affine); ints geometry + [groups, activation]; floats none or [post scale, post shift].
void checkConv(const Step& step, const Plan& plan) {
  checkConvCommon(step, plan, DType::Float32, true);
  checkPostAffine(step);
  if (step.inputs.size() == 3) {
    const ValueSlot& residual = valueOf(step, plan, step.inputs[2], "residual");
    requireDType(step, residual, DType::Float32, "residual");
    requireCount(step, residual, windowGeometry(step).outputCount(), "residual");
  }
}

// The window of output pixel `pixel` (over N x OH x OW) for channels [c0, c0 + cg) of x, as one
// row of kh * kw * cg values (taps outside the input hold `pad`).
template <typename T>
void windowRow(const WindowGeometry& g, const T* x, size_t pixel, size_t c0, size_t cg, T pad, T* row) {
  const size_t ox = pixel % g.ow, oy = (pixel / g.ow) % g.oh, b = pixel / (g.ow * g.oh);
  // All channels and adjacent taps: a window row's in-bounds taps are one run of memory.
  const bool runs = cg == g.c && g.dw == 1;
  for (size_t ky = 0; ky < g.kh; ++ky, row += g.kw * cg) {
    const int64_t iy = g.inY(oy, ky);
    if (iy < 0 || iy >= static_cast<int64_t>(g.h)) {
      std::fill(row, row + g.kw * cg, pad);
      continue;
    }
    const T* line = x + (b * g.h + static_cast<size_t>(iy)) * g.w * g.c + c0;
    if (runs) {
      size_t lo = 0, hi = g.kw;
      while (lo < hi && g.inX(ox, lo) < 0) ++lo;
      while (hi > lo && g.inX(ox, hi - 1) >= static_cast<int64_t>(g.w)) --hi;
      std::fill(row, row + lo * cg, pad);
      if (hi > lo) std::memcpy(row + lo * cg, line + static_cast<size_t>(g.inX(ox, lo)) * g.c, (hi - lo) * cg * sizeof(T));
      std::fill(row + hi * cg, row + g.kw * cg, pad);
      continue;
    }
    for (size_t kx = 0; kx < g.kw; ++kx) {
      const int64_t ix = g.inX(ox, kx);
      if (ix < 0 || ix >= static_cast<int64_t>(g.w)) {
        std::fill(row + kx * cg, row + (kx + 1) * cg, pad);
        continue;
      }
      std::memcpy(row + kx * cg, line + static_cast<size_t>(ix) * g.c, cg * sizeof(T));
    }
  }
}

// A copy of a few values inline: a window row's run is tens of bytes, where a memcpy call costs more
// than the copy. Fixed-size memcpy calls compile to plain loads and stores.
template <typename T>
inline void copyRun(T* dst, const T* src, size_t n) {
  size_t bytes = n * sizeof(T);
  auto* d = reinterpret_cast<unsigned char*>(dst);
  const auto* from = reinterpret_cast<const unsigned char*>(src);
  if (bytes > 512) {
    std::memcpy(d, from, bytes);
    return;
  }
  for (; bytes >= 16; bytes -= 16, d += 16, from += 16) std::memcpy(d, from, 16);
  for (; bytes >= 4; bytes -= 4, d += 4, from += 4) std::memcpy(d, from, 4);
  for (; bytes > 0; --bytes) *d++ = *from++;
}

// The windows of output pixels [p0, p0 + count) as consecutive rows of kh * kw * cg values. Where all
// channels are taken and a pixel's window columns lie inside the input, each window row is one run,
// copied inline; other pixels go through windowRow.
template <typename T>
void windowRows(const WindowGeometry& g, const T* x, size_t p0, size_t count, size_t c0, size_t cg, T pad, T* col) {
  const size_t k = g.kh * g.kw * cg, run = g.kw * cg;
  const bool runs = cg == g.c && g.dw == 1;
  const auto [lo, hi] = runs ? g.interiorColumns() : std::pair<size_t, size_t>{0, 0};
  size_t ox = p0 % g.ow, oy = (p0 / g.ow) % g.oh, b = p0 / (g.ow * g.oh);
  for (size_t r = 0; r < count; ++r, col += k) {
    if (ox >= lo && ox < hi) {
      T* row = col;
      const size_t ix = static_cast<size_t>(g.inX(ox, 0));
      for (size_t ky = 0; ky < g.kh; ++ky, row += run) {
        const int64_t iy = g.inY(oy, ky);
        if (iy < 0 || iy >= static_cast<int64_t>(g.h)) {
          std::fill(row, row + run, pad);
          continue;
        }
        copyRun(row, x + ((b * g.h + static_cast<size_t>(iy)) * g.w + ix) * g.c, run);
      }
    } else {
      windowRow(g, x, ((b * g.oh + oy) * g.ow + ox), c0, cg, pad, col);
    }
    if (++ox == g.ow) {
      ox = 0;
      if (++oy == g.oh) {
        oy = 0;
        ++b;
      }
    }
  }
}

// Output pixels per im2col block: about 256 KiB of window rows, at least one row. The sparse float
// kernel works on tiles of 64 rows (pixels as vector lanes), so its blocks are whole tiles.
size_t blockRows(size_t rowBytes, LinearKind kind) {
  const size_t rows = std::clamp<size_t>((256 * 1024) / std::max<size_t>(rowBytes, 1), 1, 512);
  constexpr size_t kSparseTile = 64;
  return kind == LinearKind::Sparse ? std::max(kSparseTile, rows / kSparseTile * kSparseTile) : rows;
}

// What follows each block's product: the residual (y += r, then the activation) and the post affine.
struct BlockEpilogue {
  const float* residual = nullptr;  // N x OH x OW x OC
  Activation activation = Activation::None;
  PostAffine post;
  // Rows [p0, p0 + count) of channels [c0, c0 + n), at y with rows ldy apart.
  void apply(float* y, size_t ldy, size_t p0, size_t count, size_t oc, size_t c0, size_t n) const {
    for (size_t r = 0; r < count; ++r) {
      float* row = y + r * ldy;
      if (residual) {
        addInto(row, residual + (p0 + r) * oc + c0, n);
        applyActivation(activation, row, n);
      }
      post.apply(row, n);
    }
  }
};

// Sparse float weights with 16 or more channels per group read each window in place, one piece per
// tap (sparse::RowPieces), into their transposed tiles: no im2col rows to write and read again.
bool readsPieces(const LinearWeights& w, size_t cg) {
  return w.kind == LinearKind::Sparse && !w.sparse->hasTwoFourLayout() && cg >= 16;
}

// Sparse float weights with fewer channels (the stem's 3) read each window row (kw taps, kw * cg floats,
// contiguous in NHWC without dilation) in place from a zero-padded copy of the input, one piece per ky:
// the copy is a fraction of the im2col rows it replaces (kh * kw / (sh * sw) times smaller).
bool readsPaddedRows(const LinearWeights& w, const WindowGeometry& g, size_t groups) {
  return w.kind == LinearKind::Sparse && !w.sparse->hasTwoFourLayout() && groups == 1 && g.c < 16 && g.dw == 1;
}

// x with pt/pb zero rows and pl/pr zero columns around each image: N x HP x WP x C.
std::vector<float> paddedInput(const WindowGeometry& g, const float* x) {
  const size_t hp = g.h + g.pt + g.pb, wp = g.w + g.pl + g.pr;
  std::vector<float> padded(g.n * hp * wp * g.c, 0.0f);
  for (size_t b = 0; b < g.n; ++b) {
    for (size_t iy = 0; iy < g.h; ++iy) {
      std::memcpy(padded.data() + ((b * hp + iy + g.pt) * wp + g.pl) * g.c, x + (b * g.h + iy) * g.w * g.c, g.w * g.c * sizeof(float));
    }
  }
  return padded;
}

// The window rows of output pixels [p0, p0 + count) in the padded input: piece[r * kh + ky] = the kw * c
// floats of tap row ky.
void paddedWindowRows(const WindowGeometry& g, const float* padded, size_t p0, size_t count, const float** piece) {
  const size_t hp = g.h + g.pt + g.pb, wp = g.w + g.pl + g.pr;
  size_t ox = p0 % g.ow, oy = (p0 / g.ow) % g.oh, b = p0 / (g.ow * g.oh);
  for (size_t r = 0; r < count; ++r) {
    for (size_t ky = 0; ky < g.kh; ++ky) *piece++ = padded + ((b * hp + oy * g.sh + ky * g.dh) * wp + ox * g.sw) * g.c;
    if (++ox == g.ow) {
      ox = 0;
      if (++oy == g.oh) {
        oy = 0;
        ++b;
      }
    }
  }
}

// The taps of output pixels [p0, p0 + count): piece[r * kh * kw + ky * kw + kx] = the tap's cg channels
// from c0 in x, nullptr where the tap falls in the padding.
template <typename T>
void windowPieces(const WindowGeometry& g, const T* x, size_t p0, size_t count, size_t c0, const T** piece) {
  size_t ox = p0 % g.ow, oy = (p0 / g.ow) % g.oh, b = p0 / (g.ow * g.oh);
  for (size_t r = 0; r < count; ++r) {
    for (size_t ky = 0; ky < g.kh; ++ky) {
      const int64_t iy = g.inY(oy, ky);
      for (size_t kx = 0; kx < g.kw; ++kx, ++piece) {
        const int64_t ix = g.inX(ox, kx);
        const bool inside = iy >= 0 && iy < static_cast<int64_t>(g.h) && ix >= 0 && ix < static_cast<int64_t>(g.w);
        *piece = inside ? x + ((b * g.h + static_cast<size_t>(iy)) * g.w + static_cast<size_t>(ix)) * g.c + c0 : nullptr;
      }
    }
    if (++ox == g.ow) {
      ox = 0;
      if (++oy == g.oh) {
        oy = 0;
        ++b;
      }
    }
  }
}

// pieceActivation: Conv's product activation, which lets sparse weights take the pieces path; QConv
// passes nullptr.
template <typename T, typename Product>
void convBlocks(const Step& step, RunState& state, T pad, const BlockEpilogue& epilogue, const OutputQuantization* quantized,
                const Activation* pieceActivation, Product product) {
  const WindowGeometry g = windowGeometry(step);
  const size_t groups = groupsOf(step), cg = g.c / groups, ocg = g.oc / groups, k = g.kh * g.kw * cg;
  const size_t pixels = g.n * g.oh * g.ow;
  const T* x = state.at<T>(step.inputs[0]);
  const float* bias = step.inputs.size() >= 2 && step.inputs[1] >= 0 ? state.at<float>(step.inputs[1]) : nullptr;
  float* y = quantized ? nullptr : state.at<float>(step.outputs[0]);
  uint8_t* yq = quantized ? state.at<uint8_t>(step.outputs[0]) : nullptr;
  const size_t rows = blockRows(k * sizeof(T), state.plan.weights->linears[static_cast<size_t>(step.linear)].kind);
  const size_t blocks = (pixels + rows - 1) / rows;
  std::vector<float> padded;
  if constexpr (std::is_same_v<T, float>) {
    if (pieceActivation && readsPaddedRows(state.plan.weights->linears[static_cast<size_t>(step.linear)], g, groups)) {
      padded = paddedInput(g, x);
    }
  }
  parallelRange(blocks * groups, static_cast<double>(rows) * k * ocg, [&](size_t b0, size_t b1) {
    std::vector<T> col;
    std::vector<const T*> pieces;
    std::vector<float> out(groups > 1 || quantized ? rows * ocg : 0);
    for (size_t item = b0; item < b1; ++item) {
      const size_t grp = item % groups, p0 = (item / groups) * rows, count = std::min(rows, pixels - p0);
      const LinearWeights& w = state.plan.weights->linears[static_cast<size_t>(step.linear) + grp];
      const float* groupBias = bias ? bias + grp * ocg : nullptr;
      float* dst = quantized || groups > 1 ? out.data() : y + p0 * g.oc;
      bool inPlace = false;
      if constexpr (std::is_same_v<T, float>) {
        inPlace = pieceActivation && (readsPieces(w, cg) || !padded.empty());
        if (inPlace) {
          pieces.resize(rows * g.kh * g.kw);
          sparse::RowPieces rowPieces{pieces.data(), g.kh * g.kw, cg};
          if (padded.empty()) {
            windowPieces(g, x, p0, count, grp * cg, pieces.data());
          } else {
            paddedWindowRows(g, padded.data(), p0, count, pieces.data());
            rowPieces = sparse::RowPieces{pieces.data(), g.kh, g.kw * cg};
          }
          sparse::matmulFloatPieces(rowPieces, count, *w.sparse, groupBias, dst);
          applyActivation(*pieceActivation, dst, count * ocg);
        }
      }
      if (!inPlace) {
        col.resize(rows * k);
        windowRows(g, x, p0, count, grp * cg, cg, pad, col.data());
        product(w, col.data(), count, k, groupBias, dst);
      }
      if (quantized) {
        // One group: the block's rows are contiguous in y, quantized in one call.
        const size_t runs = groups == 1 ? 1 : count, runLength = groups == 1 ? count * ocg : ocg;
        for (size_t r = 0; r < runs; ++r) {
          uint8_t* codes = yq + (p0 + r) * g.oc + grp * ocg;
          quant::quantize(out.data() + r * ocg, quant::AxisLayout{1, 1, runLength}, &quantized->scale, &quantized->zeroPoint,
                          quantized->type, codes);
          quantized->mapCodes(codes, runLength);
        }
        continue;
      }
      if (groups == 1) {
        epilogue.apply(y + p0 * g.oc, g.oc, p0, count, g.oc, 0, g.oc);
        continue;
      }
      epilogue.apply(out.data(), ocg, p0, count, g.oc, grp * ocg, ocg);
      for (size_t r = 0; r < count; ++r) std::memcpy(y + (p0 + r) * g.oc + grp * ocg, out.data() + r * ocg, ocg * sizeof(float));
    }
  });
}

bool pointwise(const WindowGeometry& g, size_t groups) {
  return groups == 1 && g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.oh == g.h && g.ow == g.w;
}

void runConv(const Step& step, RunState& state) {
  const WindowGeometry g = windowGeometry(step);
  const auto activation = static_cast<Activation>(step.ints[kActivation]);
  if (g.outputCount() == 0) return;
  BlockEpilogue epilogue;
  epilogue.post = postAffineOf(step);
  if (step.inputs.size() == 3) {
    epilogue.residual = state.at<float>(step.inputs[2]);
    epilogue.activation = activation;
  }
  // With a residual the activation follows the sum, so the product runs without it.
  const Activation productActivation = epilogue.residual ? Activation::None : activation;
  const float* bias = step.inputs.size() >= 2 && step.inputs[1] >= 0 ? state.at<float>(step.inputs[1]) : nullptr;
  if (pointwise(g, groupsOf(step))) {
    const LinearWeights& w = state.plan.weights->linears[static_cast<size_t>(step.linear)];
    float* y = state.at<float>(step.outputs[0]);
    linearRows(w, state.at<float>(step.inputs[0]), g.n * g.h * g.w, g.c, bias, productActivation, y);
    if (epilogue.post.on || epilogue.residual) {
      parallelRange(g.n * g.h * g.w, static_cast<double>(g.oc), [&](size_t r0, size_t r1) {
        epilogue.apply(y + r0 * g.oc, g.oc, r0, r1 - r0, g.oc, 0, g.oc);
      });
    }
    return;
  }
  // Blocks run on the pool's threads, each product on its own thread.
  convBlocks<float>(step, state, 0.0f, epilogue, nullptr, &productActivation, [&](const LinearWeights& w, const float* col, size_t m, size_t k, const float* b, float* y) {
    linearRows(w, col, m, k, b, productActivation, y);
  });
}

// QConv: inputs x (uint8 or int8, NHWC), bias (or -1); floats [x scale]; ints geometry + [groups,
// activation, x zero point]. Output float32. With a quantized output (OutputQuantization): input 2 the
// code table (uint8, 256), floats + [output scale], ints + [output zero point, 1 if that quantization
// is int8], y uint8 or int8 (the table's codes).
bool zeroPointFits(int64_t zp, bool isSigned) { return isSigned ? zp >= -128 && zp <= 127 : zp >= 0 && zp <= 255; }

void checkQConv(const Step& step, const Plan& plan) {
  if (step.inputs.empty()) planError(step, "needs x");
  const ValueSlot& x = valueOf(step, plan, step.inputs[0], "x");
  if (x.dtype != DType::Uint8 && x.dtype != DType::Int8) planError(step, "x must be uint8 or int8");
  const bool quantizedOutput = step.floats.size() == 2;
  checkConvCommon(step, plan, x.dtype, quantizedOutput);
  requireInts(step, kActivation + (quantizedOutput ? 4 : 2));
  requireFloats(step, quantizedOutput ? 2 : 1);
  if (!zeroPointFits(step.ints[kActivation + 1], x.dtype == DType::Int8)) planError(step, "the zero point is out of the type's range");
  if (!quantizedOutput) return;
  if (step.inputs.size() != 3) planError(step, "a quantized output needs its code table");
  const ValueSlot& table = valueOf(step, plan, step.inputs[2], "code table");
  if (table.dtype != DType::Uint8 && table.dtype != DType::Int8) planError(step, "the code table must be uint8 or int8");
  requireCount(step, table, 256, "code table");
  if (step.ints[kActivation + 3] != 0 && step.ints[kActivation + 3] != 1) planError(step, "the output type flag must be 0 or 1");
  if (!zeroPointFits(step.ints[kActivation + 2], step.ints[kActivation + 3] == 1)) planError(step, "the output zero point is out of the type's range");
  if (!(step.floats[1] > 0) || !std::isfinite(step.floats[1])) planError(step, "the output scale must be positive and finite");
}

void runQConv(const Step& step, RunState& state) {
  const WindowGeometry g = windowGeometry(step);
  if (g.outputCount() == 0) return;
  const auto activation = static_cast<Activation>(step.ints[kActivation]);
  const int32_t zp = static_cast<int32_t>(step.ints[kActivation + 1]);
  const float scale = step.floats[0];
  const bool isSigned = state.plan.values[static_cast<size_t>(step.inputs[0])].dtype == DType::Int8;
  const uint8_t pad = static_cast<uint8_t>(zp);
  OutputQuantization quantized;
  const bool quantizedOutput = step.floats.size() == 2;
  if (quantizedOutput) {
    quantized.scale = step.floats[1];
    quantized.zeroPoint = static_cast<int32_t>(step.ints[kActivation + 2]);
    quantized.type = step.ints[kActivation + 3] == 1 ? quant::QuantType::Int8 : quant::QuantType::Uint8;
    quantized.table = state.at<uint8_t>(step.inputs[2]);
  }
  convBlocks<uint8_t>(step, state, pad, BlockEpilogue{}, quantizedOutput ? &quantized : nullptr, nullptr, [&](const LinearWeights& w, const uint8_t* col, size_t m, size_t k, const float* bias, float* y) {
    quantizedLinearRows(w, col, isSigned, m, k, scale, zp, bias, activation, y);
  });
}

// DepthwiseConv: inputs x (NHWC), weights [KH, KW, C], bias (C, optional); ints geometry (OC == C)
// + [activation].
void checkDepthwise(const Step& step, const Plan& plan) {
  requireArity(step, 2, 3, 1);
  const WindowGeometry g = checkedWindowGeometry(step);
  requireInts(step, WindowGeometry::kParams + 1);
  if (g.oc != g.c) planError(step, "a depthwise convolution keeps the channel count");
  const ValueSlot& x = valueOf(step, plan, step.inputs[0], "x");
  requireDType(step, x, DType::Float32, "x");
  requireCount(step, x, g.inputCount(), "x");
  const ValueSlot& w = valueOf(step, plan, step.inputs[1], "weights");
  requireDType(step, w, DType::Float32, "weights");
  requireCount(step, w, g.kh * g.kw * g.c, "weights");
  if (step.inputs.size() == 3 && step.inputs[2] >= 0) requireCount(step, valueOf(step, plan, step.inputs[2], "bias"), g.c, "bias");
  const ValueSlot& y = valueOf(step, plan, step.outputs[0], "y");
  requireDType(step, y, DType::Float32, "y");
  requireCount(step, y, g.outputCount(), "y");
  const int64_t a = step.ints[WindowGeometry::kParams];
  if (a < 0 || a >= static_cast<int64_t>(Activation::Count)) planError(step, "unknown activation");
  checkPostAffine(step);
}

void runDepthwise(const Step& step, RunState& state) {
  const WindowGeometry g = windowGeometry(step);
  const auto activation = static_cast<Activation>(step.ints[WindowGeometry::kParams]);
  const float* x = state.at<float>(step.inputs[0]);
  const float* w = state.at<float>(step.inputs[1]);
  const float* bias = step.inputs.size() == 3 ? state.at<float>(step.inputs[2]) : nullptr;
  float* y = state.at<float>(step.outputs[0]);
  const size_t c = g.c;
  const size_t taps = g.kh * g.kw;
  const PostAffine post = postAffineOf(step);
  const auto [lo, hi] = g.interiorColumns();
  parallelRange(g.n * g.oh, static_cast<double>(g.ow) * taps * c, [&](size_t r0, size_t r1) {
    std::vector<ptrdiff_t> offsets(taps);
    std::vector<const float*> weights(taps);
    for (size_t r = r0; r < r1; ++r) {
      const size_t b = r / g.oh, oy = r % g.oh;
      const float* image = x + b * g.h * g.w * c;
      float* row = y + r * g.ow * c;
      // The taps of output column ox that fall inside the image (padding contributes nothing), as
      // offsets from the image; all columns when ox is interior.
      auto tapsOf = [&](size_t ox, bool allColumns) {
        size_t count = 0;
        for (size_t ky = 0; ky < g.kh; ++ky) {
          const int64_t iy = g.inY(oy, ky);
          if (iy < 0 || iy >= static_cast<int64_t>(g.h)) continue;
          for (size_t kx = 0; kx < g.kw; ++kx) {
            const int64_t ix = allColumns ? g.inX(lo, 0) + static_cast<int64_t>(kx * g.dw) : g.inX(ox, kx);
            if (!allColumns && (ix < 0 || ix >= static_cast<int64_t>(g.w))) continue;
            offsets[count] = static_cast<ptrdiff_t>((iy * static_cast<int64_t>(g.w) + ix) * static_cast<int64_t>(c));
            weights[count++] = w + (ky * g.kw + kx) * c;
          }
        }
        return count;
      };
      for (size_t ox = 0; ox < g.ow; ++ox) {
        if (ox == lo && hi > lo) {
          depthwiseRow(image, hi - lo, g.sw * c, offsets.data(), weights.data(), tapsOf(lo, true), bias, row + lo * c, c);
          ox = hi - 1;
          continue;
        }
        depthwiseRow(image, 1, 0, offsets.data(), weights.data(), tapsOf(ox, false), bias, row + ox * c, c);
      }
      applyActivation(activation, row, g.ow * c);
      post.apply(row, g.ow * c);
    }
  });
}

}  // namespace

extern const OpKernel kConvKernel{checkConv, runConv};
extern const OpKernel kQConvKernel{checkQConv, runQConv};
extern const OpKernel kDepthwiseConvKernel{checkDepthwise, runDepthwise};

}  // namespace onnxforge::engine
