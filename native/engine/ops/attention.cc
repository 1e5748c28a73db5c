// Scaled dot-product attention, one (batch, head) pair per task:
//   out[b, i, h, :] = softmax_j(scale * q[b, i, h, :] . k[b, j, h, :] + mask[b, h, i, j]) v[b, j, h, :]
// q, k, v and out are addressed through strides (batch, head, position, channel), so the
// exporters' Reshape/Transpose around attention need no copies. mask is optional and additive.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../float_kernels.h"
#include "../op_kernel.h"

namespace onnxforge::engine {
namespace {

// ints = [batch, heads, seqQ, seqKv, headDim, q strides[4], k strides[4], v strides[4],
//         out strides[4], mask strides[4]]; floats = [scale].
constexpr size_t kParams = 5 + 5 * 4;

struct Strided {
  size_t s[4];  // batch, head, position, channel
  size_t at(size_t b, size_t h, size_t i, size_t c) const { return b * s[0] + h * s[1] + i * s[2] + c * s[3]; }
};

struct AttentionShape {
  size_t batch, heads, seqQ, seqKv, headDim;
  Strided q, k, v, out, mask;
};

AttentionShape attentionShape(const Step& step) {
  AttentionShape a;
  a.batch = static_cast<size_t>(step.ints[0]);
  a.heads = static_cast<size_t>(step.ints[1]);
  a.seqQ = static_cast<size_t>(step.ints[2]);
  a.seqKv = static_cast<size_t>(step.ints[3]);
  a.headDim = static_cast<size_t>(step.ints[4]);
  Strided* all[] = {&a.q, &a.k, &a.v, &a.out, &a.mask};
  for (size_t t = 0; t < 5; ++t)
    for (size_t d = 0; d < 4; ++d) all[t]->s[d] = static_cast<size_t>(step.ints[5 + t * 4 + d]);
  return a;
}

void checkReach(const Step& step, const ValueSlot& v, const Strided& st, const size_t dims[4], const char* role) {
  size_t reach = 0;
  for (size_t d = 0; d < 4; ++d) reach = mulParam(step, 1, reach + mulParam(step, dims[d] - 1, st.s[d]));
  if (reach >= v.count) planError(step, std::string(role) + " is smaller than its strides reach");
}

void checkAttention(const Step& step, const Plan& plan) {
  requireArity(step, 3, 4, 1);
  requireInts(step, kParams);
  requireFloats(step, 1);
  for (size_t i = 0; i < kParams; ++i) sizeParam(step, i);
  AttentionShape a = attentionShape(step);
  const char* roles[] = {"q", "k", "v", "mask"};
  for (size_t i = 0; i < step.inputs.size(); ++i) {
    if (i == 3 && step.inputs[3] < 0) continue;
    requireDType(step, valueOf(step, plan, step.inputs[i], roles[i]), DType::Float32, roles[i]);
  }
  const ValueSlot& out = valueOf(step, plan, step.outputs[0], "out");
  requireDType(step, out, DType::Float32, "out");
  if (a.batch == 0 || a.heads == 0 || a.seqQ == 0 || a.headDim == 0) return;
  if (a.seqKv == 0) planError(step, "attends over no positions");
  const size_t qDims[] = {a.batch, a.heads, a.seqQ, a.headDim};
  const size_t kvDims[] = {a.batch, a.heads, a.seqKv, a.headDim};
  const size_t maskDims[] = {a.batch, a.heads, a.seqQ, a.seqKv};
  checkReach(step, plan.values[static_cast<size_t>(step.inputs[0])], a.q, qDims, "q");
  checkReach(step, plan.values[static_cast<size_t>(step.inputs[1])], a.k, kvDims, "k");
  checkReach(step, plan.values[static_cast<size_t>(step.inputs[2])], a.v, kvDims, "v");
  checkReach(step, out, a.out, qDims, "out");
  if (step.inputs.size() == 4 && step.inputs[3] >= 0) {
    checkReach(step, plan.values[static_cast<size_t>(step.inputs[3])], a.mask, maskDims, "mask");
  }
}

// Rows of one head gathered into a dense [positions x channels] block (or viewed in place
// when already dense along channels).
const float* headRows(const float* base, const Strided& st, size_t b, size_t h, size_t rows, size_t cols,
                      std::vector<float>& scratch, size_t* ld) {
  const float* first = base + st.at(b, h, 0, 0);
  if (st.s[3] == 1) {
    *ld = st.s[2];
    return first;
  }
  scratch.resize(rows * cols);
  for (size_t i = 0; i < rows; ++i)
    for (size_t c = 0; c < cols; ++c) scratch[i * cols + c] = first[i * st.s[2] + c * st.s[3]];
  *ld = cols;
  return scratch.data();
}

void runAttention(const Step& step, RunState& state) {
  const AttentionShape a = attentionShape(step);
  if (a.batch == 0 || a.heads == 0 || a.seqQ == 0 || a.headDim == 0) return;
  const float scale = step.floats[0];
  const float* q = state.at<float>(step.inputs[0]);
  const float* k = state.at<float>(step.inputs[1]);
  const float* v = state.at<float>(step.inputs[2]);
  const float* mask = step.inputs.size() == 4 ? state.at<float>(step.inputs[3]) : nullptr;
  float* out = state.at<float>(step.outputs[0]);
  const size_t pairs = a.batch * a.heads;
  const double work = 2.0 * static_cast<double>(a.seqQ) * a.seqKv * a.headDim;
  parallelRange(pairs, work, [&](size_t p0, size_t p1) {
    std::vector<float> scores(a.seqQ * a.seqKv), qs, ks, vs, os;
    for (size_t p = p0; p < p1; ++p) {
      const size_t b = p / a.heads, h = p % a.heads;
      size_t ldq, ldk, ldv;
      const float* qh = headRows(q, a.q, b, h, a.seqQ, a.headDim, qs, &ldq);
      const float* kh = headRows(k, a.k, b, h, a.seqKv, a.headDim, ks, &ldk);
      const float* vh = headRows(v, a.v, b, h, a.seqKv, a.headDim, vs, &ldv);
      gemmSerial(a.seqQ, a.seqKv, a.headDim, scale, qh, ldq, false, kh, ldk, true, 0.0f, scores.data(), a.seqKv);
      for (size_t i = 0; i < a.seqQ; ++i) {
        float* row = scores.data() + i * a.seqKv;
        if (mask) {
          const float* m = mask + a.mask.at(b, h, i, 0);
          for (size_t j = 0; j < a.seqKv; ++j) row[j] += m[j * a.mask.s[3]];
        }
        softmaxRow(row, row, a.seqKv, false);
      }
      if (a.out.s[3] == 1) {
        gemmSerial(a.seqQ, a.headDim, a.seqKv, 1.0f, scores.data(), a.seqKv, false, vh, ldv, false, 0.0f,
                   out + a.out.at(b, h, 0, 0), a.out.s[2]);
        continue;
      }
      os.resize(a.seqQ * a.headDim);
      gemmSerial(a.seqQ, a.headDim, a.seqKv, 1.0f, scores.data(), a.seqKv, false, vh, ldv, false, 0.0f, os.data(), a.headDim);
      for (size_t i = 0; i < a.seqQ; ++i)
        for (size_t c = 0; c < a.headDim; ++c) out[a.out.at(b, h, i, c)] = os[i * a.headDim + c];
    }
  });
}

}  // namespace

extern const OpKernel kAttentionKernel{checkAttention, runAttention};

}  // namespace onnxforge::engine
