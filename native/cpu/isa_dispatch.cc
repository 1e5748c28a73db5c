#include "isa_dispatch.h"

namespace onnxforge {

IsaLevel dispatchLevel() {
#if defined(ONNXFORGE_AMX_EMULATE) && defined(ONNXFORGE_X86)
  // Only the int8 AMX kernels can emulate their tiles (int8_amx.cc).
  const CpuFeatures& f = cpuFeatures();
  if (f.isaCap == "amx" && f.activeLevel == IsaLevel::Avx512Vnni) return IsaLevel::Amx;
#endif
  return activeIsa();
}

}  // namespace onnxforge
