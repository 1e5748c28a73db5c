// CPU feature detection and the ISA level the kernels run at.
#pragma once
#include <string>

namespace onnxforge {

// Ordered: each level implies the ones below it.
enum class IsaLevel { Scalar = 0, Avx2 = 1, Avx512Vnni = 2, Amx = 3 };

struct CpuFeatures {
  bool sse42 = false;
  bool avx = false;
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512vnni = false;
  bool avxvnni = false;
  bool amxTile = false;
  bool amxInt8 = false;
  bool amxBf16 = false;
  // What the OS allows (XCR0) and, for AMX, whether arch_prctl granted permission.
  bool osAvx = false;
  bool osAvx512 = false;
  bool osAmx = false;
  bool amxPermission = false;
  int logicalCores = 1;
  int physicalCores = 1;
  IsaLevel detectedLevel = IsaLevel::Scalar;  // best level the machine supports
  IsaLevel activeLevel = IsaLevel::Scalar;    // after the ONNXFORGE_ISA cap
  std::string isaCap;                         // the cap as given, empty when unset
};

// Detected once, on first call; thread-safe.
const CpuFeatures& cpuFeatures();
IsaLevel activeIsa();
const char* isaName(IsaLevel level);
// Parses "scalar|avx2|avx512vnni|amx"; returns false for anything else.
bool parseIsaName(const std::string& name, IsaLevel* out);

}  // namespace onnxforge
