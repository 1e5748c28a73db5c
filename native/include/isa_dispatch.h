// The one place kernels choose an instruction set. cpu_features.cc detects the CPU
// once and applies the ONNXFORGE_ISA cap; each kernel family lists its
// implementations once, best first, each with the level it needs, and asks
// selectIsa() for the first one this process may run:
//
//   const IsaEntry<MyKernels> kMyFamily[] = {
//   #if defined(ONNXFORGE_X86)
//       {IsaLevel::Avx512Vnni, myKernelsAvx512}, {IsaLevel::Avx2, myKernelsAvx2},
//   #endif
//       {IsaLevel::Scalar, myKernelsScalar}};
//   const MyKernels& active = selectIsa(kMyFamily, dispatchLevel());
#pragma once
#include <cstddef>

#include "cpu_features.h"

namespace onnxforge {

template <typename Table>
struct IsaEntry {
  IsaLevel level;           // the lowest level that runs this implementation
  const Table& (*table)();  // its kernels
};

// The level kernels are chosen for: activeIsa(), except in builds made with
// ONNXFORGE_AMX_EMULATE (scripts/build-amx-emulated.sh), where ONNXFORGE_ISA=amx on an
// AVX512-VNNI CPU selects AMX entries, which must then run on emulated tiles.
IsaLevel dispatchLevel();

// The first entry whose level `level` reaches. A family ends with its Scalar entry,
// which every CPU reaches.
template <typename Table, size_t N>
const Table& selectIsa(const IsaEntry<Table> (&family)[N], IsaLevel level) {
  static_assert(N > 0, "a kernel family needs at least its scalar entry");
  for (const IsaEntry<Table>& entry : family) {
    if (entry.level <= level) return entry.table();
  }
  return family[N - 1].table();
}

}  // namespace onnxforge
