// What `onnxforge doctor` reports: the facts a bug report needs about this install (which addon
// loaded, from where and how it was built; the CPU paths; CUDA; onnxruntime-node). Collecting never
// throws: an addon that does not load is reported with the loader's error.
import * as fs from 'fs';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import type { CpuInfo, CudaInfo } from '../../binding';
import { ortCudaSupport, type OrtCudaSupport } from '../engine/ort-cuda';
import { nativeBinary, type NativeAddonInfo } from '../native';
import { packageRoot, packageVersion } from '../package-info';
import { currentPlatformName, currentPlatformTarget, platformPackageName } from '../platform-package';

export interface DoctorReport {
  onnxforge: { version: string; root: string };
  node: { version: string; napiVersion: string; platform: string; glibc: string | null };
  /** The package npm installs for this platform; null when none is made for it. */
  platformPackage: string | null;
  addon: ({ loaded: true } & NativeAddonInfo) | { loaded: false; error: string };
  cpu: CpuInfo | null;
  cuda: CudaInfo | null;
  onnxruntime: { version: string; backends: { name: string; bundled: boolean }[]; cuda: OrtCudaSupport };
}

function glibcVersion(): string | null {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ?? null;
}

function onnxruntimeVersion(): string {
  const manifest = path.join(path.dirname(path.dirname(require.resolve('onnxruntime-node'))), 'package.json');
  return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version;
}

export function doctorReport(): DoctorReport {
  const target = currentPlatformTarget();
  let addon: DoctorReport['addon'];
  let cpu: CpuInfo | null = null;
  let cuda: CudaInfo | null = null;
  try {
    const { binding, ...info } = nativeBinary();
    addon = { loaded: true, ...info };
    cpu = binding.cpuInfo();
    cuda = binding.cudaInfo();
  } catch (err) {
    addon = { loaded: false, error: (err as Error).message };
  }
  return {
    onnxforge: { version: packageVersion(), root: packageRoot() },
    node: { version: process.version, napiVersion: process.versions.napi ?? 'unknown', platform: currentPlatformName(), glibc: glibcVersion() },
    platformPackage: target ? platformPackageName(target) : null,
    addon,
    cpu,
    cuda,
    onnxruntime: { version: onnxruntimeVersion(), backends: ort.listSupportedBackends(), cuda: ortCudaSupport() },
  };
}
