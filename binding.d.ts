// The typed contract of the native addon (build/Release/onnxforge.node).
// Every export of the addon is declared here; lib/native.ts loads it.

export type IsaName = 'scalar' | 'avx2' | 'avx512vnni' | 'amx';

export interface CpuFeatureFlags {
  'sse4.2': boolean;
  avx: boolean;
  avx2: boolean;
  fma: boolean;
  f16c: boolean;
  avx512f: boolean;
  avx512bw: boolean;
  avx512vl: boolean;
  avx512dq: boolean;
  avx512vnni: boolean;
  avxvnni: boolean;
  /** AMX flags are true only when the CPU has them, XCR0 enables them and arch_prctl granted permission. */
  'amx-tile': boolean;
  'amx-int8': boolean;
  'amx-bf16': boolean;
}

export interface CpuInfo {
  features: CpuFeatureFlags;
  /** The ISA level the kernels run at (after the ONNXFORGE_ISA cap). */
  isa: IsaName;
  /** The best level this machine supports. */
  detectedIsa: IsaName;
  /** ONNXFORGE_ISA as given, or null when unset. */
  isaCap: string | null;
  isaCapValid: boolean;
  /** The CPU advertises AMX but the OS or arch_prctl did not allow it. */
  amxDeniedByOs: boolean;
  logicalCores: number;
  physicalCores: number;
  /** Threads the kernels use (the calling thread included). */
  threads: number;
}

export interface NativeBinding {
  cpuInfo(): CpuInfo;
  getNumThreads(): number;
  /** 1..256; the default is the number of physical cores. */
  setNumThreads(n: number): void;
}

declare const binding: NativeBinding;
export default binding;
