#include "cpu_features.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#if defined(ONNXFORGE_X86)
#include <cpuid.h>
#endif
#if defined(__linux__)
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
#include <thread>

namespace onnxforge {
namespace {

#if defined(ONNXFORGE_X86)
struct CpuidRegs { unsigned eax = 0, ebx = 0, ecx = 0, edx = 0; };

CpuidRegs cpuid(unsigned leaf, unsigned subleaf) {
  CpuidRegs r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

unsigned long long readXcr0() {
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

// Linux keeps AMX tile data off until the process asks for it.
bool requestAmxPermission() {
#if defined(__linux__)
  constexpr long kArchGetXcompPerm = 0x1022;
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0) return false;
  unsigned long long bitmask = 0;
  if (syscall(SYS_arch_prctl, kArchGetXcompPerm, &bitmask) != 0) return false;
  return (bitmask & (1ULL << kXfeatureXtiledata)) != 0;
#else
  return false;
#endif
}

void detectX86(CpuFeatures& f) {
  unsigned maxLeaf = cpuid(0, 0).eax;
  if (maxLeaf < 1) return;
  CpuidRegs l1 = cpuid(1, 0);
  f.sse42 = l1.ecx & (1u << 20);
  f.fma = l1.ecx & (1u << 12);
  f.f16c = l1.ecx & (1u << 29);
  bool osxsave = l1.ecx & (1u << 27);
  f.avx = l1.ecx & (1u << 28);
  unsigned long long xcr0 = osxsave ? readXcr0() : 0;
  f.osAvx = (xcr0 & 0x6) == 0x6;
  f.osAvx512 = f.osAvx && (xcr0 & 0xE0) == 0xE0;
  f.osAmx = (xcr0 & 0x60000) == 0x60000;
  if (maxLeaf >= 7) {
    CpuidRegs l7 = cpuid(7, 0);
    f.avx2 = l7.ebx & (1u << 5);
    f.avx512f = l7.ebx & (1u << 16);
    f.avx512dq = l7.ebx & (1u << 17);
    f.avx512bw = l7.ebx & (1u << 30);
    f.avx512vl = l7.ebx & (1u << 31);
    f.avx512vnni = l7.ecx & (1u << 11);
    f.amxBf16 = l7.edx & (1u << 22);
    f.amxTile = l7.edx & (1u << 24);
    f.amxInt8 = l7.edx & (1u << 25);
    if (l7.eax >= 1) f.avxvnni = cpuid(7, 1).eax & (1u << 4);
  }
  if (f.amxTile && f.amxInt8 && f.osAmx) f.amxPermission = requestAmxPermission();
}
#endif

int countLogicalCores() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
#endif
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

// Distinct (package, core) pairs among the CPUs this process may run on.
int countPhysicalCores(int logical) {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return logical;
  std::set<std::pair<int, int>> cores;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::ifstream coreFile(base + "core_id"), packageFile(base + "physical_package_id");
    int core = -1, package = -1;
    if (!(coreFile >> core) || !(packageFile >> package)) return logical;
    cores.insert({package, core});
  }
  return cores.empty() ? logical : static_cast<int>(cores.size());
#else
  return logical;
#endif
}

IsaLevel bestLevel(const CpuFeatures& f) {
  bool avx2 = f.osAvx && f.avx2 && f.fma && f.f16c;
  bool avx512vnni = avx2 && f.osAvx512 && f.avx512f && f.avx512bw && f.avx512vl &&
                    f.avx512dq && f.avx512vnni;
  bool amx = avx512vnni && f.amxTile && f.amxInt8 && f.osAmx && f.amxPermission;
  if (amx) return IsaLevel::Amx;
  if (avx512vnni) return IsaLevel::Avx512Vnni;
  if (avx2) return IsaLevel::Avx2;
  return IsaLevel::Scalar;
}

CpuFeatures detect() {
  CpuFeatures f;
#if defined(ONNXFORGE_X86)
  detectX86(f);
#endif
  f.logicalCores = countLogicalCores();
  f.physicalCores = countPhysicalCores(f.logicalCores);
  f.detectedLevel = bestLevel(f);
  f.activeLevel = f.detectedLevel;
  const char* cap = std::getenv("ONNXFORGE_ISA");
  IsaLevel capLevel;
  if (cap && *cap && parseIsaName(cap, &capLevel)) {
    f.isaCap = cap;
    if (capLevel < f.activeLevel) f.activeLevel = capLevel;
  } else if (cap && *cap) {
    f.isaCap = cap;  // unknown names are reported by the binding, level left as detected
  }
  return f;
}

}  // namespace

const CpuFeatures& cpuFeatures() {
  static const CpuFeatures features = detect();
  return features;
}

IsaLevel activeIsa() { return cpuFeatures().activeLevel; }

const char* isaName(IsaLevel level) {
  switch (level) {
    case IsaLevel::Amx: return "amx";
    case IsaLevel::Avx512Vnni: return "avx512vnni";
    case IsaLevel::Avx2: return "avx2";
    case IsaLevel::Scalar: return "scalar";
  }
  return "scalar";
}

bool parseIsaName(const std::string& name, IsaLevel* out) {
  for (IsaLevel level : {IsaLevel::Scalar, IsaLevel::Avx2, IsaLevel::Avx512Vnni, IsaLevel::Amx}) {
    if (name == isaName(level)) { *out = level; return true; }
  }
  return false;
}

}  // namespace onnxforge
