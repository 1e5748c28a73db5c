// Whether onnxruntime-node can run its CUDA execution provider here. Its npm package
// ships the CPU library only: the CUDA provider libraries are downloaded by its install
// script (skipped by ONNXRUNTIME_NODE_INSTALL=skip), and
// at run time they need an NVIDIA driver, CUDA 12 and cuDNN 9 on the library path.
import * as fs from 'fs';
import * as path from 'path';
import * as ort from 'onnxruntime-node';

export interface OrtCudaSupport {
  available: boolean;
  /** Why not, when not available. */
  reason: string | null;
}

export class OrtCudaUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrtCudaUnavailableError';
  }
}

const PROVIDER_LIBRARIES: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'],
  win32: ['onnxruntime_providers_shared.dll', 'onnxruntime_providers_cuda.dll'],
};

const REMEDY = 'reinstall onnxruntime-node on a CUDA machine without ONNXRUNTIME_NODE_INSTALL=skip';

/** The folder of onnxruntime-node's native binding, where its provider libraries go. */
function bindingFolder(): string {
  const packageRoot = path.dirname(path.dirname(require.resolve('onnxruntime-node')));
  return path.join(packageRoot, 'bin', 'napi-v6', process.platform, process.arch);
}

let cached: OrtCudaSupport | undefined;

/** Checked once: the provider is listed by onnxruntime-node and its libraries are installed. */
export function ortCudaSupport(): OrtCudaSupport {
  if (cached) return cached;
  const cuda = ort.listSupportedBackends().find((backend) => backend.name === 'cuda');
  const libraries = PROVIDER_LIBRARIES[process.platform];
  if (!cuda || !libraries) {
    cached = { available: false, reason: `onnxruntime-node has no CUDA execution provider on ${process.platform}-${process.arch}` };
  } else if (cuda.bundled) {
    cached = { available: true, reason: null };
  } else {
    const folder = bindingFolder();
    const missing = libraries.filter((file) => !fs.existsSync(path.join(folder, file)));
    cached = missing.length
      ? { available: false, reason: `onnxruntime-node has no CUDA execution provider here (${missing.join(', ')} not installed in ${folder}; ${REMEDY})` }
      : { available: true, reason: null };
  }
  return cached;
}

/** Throws OrtCudaUnavailableError, with the reason, unless the CUDA provider is there. */
export function requireOrtCuda(): void {
  const support = ortCudaSupport();
  if (!support.available) throw new OrtCudaUnavailableError(support.reason!);
}

/** onnxruntime's own error when the installed provider fails to start, with what it needs. */
export function ortCudaLoadError(err: unknown): OrtCudaUnavailableError {
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new OrtCudaUnavailableError(
    `onnxruntime-node's CUDA execution provider failed to start (${message}); it needs an NVIDIA GPU and driver, ` +
      'CUDA 12 and cuDNN 9 libraries on the library path',
  );
}
