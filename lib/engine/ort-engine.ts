// OrtEngine: onnxruntime-node, the reference and general-purpose engine.
import * as ort from 'onnxruntime-node';
import type { Engine, EngineOptions, Session, ValueMetadata } from './engine';
import { ortCudaLoadError, ortCudaSupport, requireOrtCuda } from './ort-cuda';
import type { Feeds, HostTensor, TensorType } from './tensor';

function toOrtTensor(tensor: HostTensor): ort.Tensor {
  return new ort.Tensor(tensor.type as ort.Tensor.Type, tensor.data as ort.Tensor.DataType, tensor.dims);
}

function fromOrtTensor(tensor: ort.Tensor): HostTensor {
  return { type: tensor.type as TensorType, dims: [...tensor.dims], data: tensor.data as HostTensor['data'] };
}

function metadataOf(list: readonly ort.InferenceSession.ValueMetadata[]): ValueMetadata[] {
  return list.map((m) =>
    m.isTensor
      ? { name: m.name, type: m.type, shape: m.shape.map((d) => (d === undefined ? null : d)) }
      : { name: m.name, type: 'non-tensor', shape: null },
  );
}

class OrtSession implements Session {
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];

  constructor(private readonly session: ort.InferenceSession) {
    this.inputs = metadataOf(session.inputMetadata);
    this.outputs = metadataOf(session.outputMetadata);
  }

  async run(feeds: Feeds, outputNames?: readonly string[]): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(tensor);
    const results = outputNames
      ? await this.session.run(ortFeeds, outputNames)
      : await this.session.run(ortFeeds);
    const out: Record<string, HostTensor> = {};
    for (const [name, tensor] of Object.entries(results)) out[name] = fromOrtTensor(tensor);
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

function providersFor(device: EngineOptions['device']): string[] {
  if (device === 'cuda' || (device === 'auto' && ortCudaSupport().available)) return ['cuda', 'cpu'];
  return ['cpu'];
}

export function ortSessionOptions(options: EngineOptions = {}): ort.InferenceSession.SessionOptions {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    executionProviders: [...(options.executionProviders ?? providersFor(options.device))],
    // Errors only: onnxruntime's warnings (e.g. about implicit subgraph inputs) are noise to our users.
    logSeverityLevel: 3,
  };
  if (options.memoryArena === false) {
    sessionOptions.enableCpuMemArena = false;
    sessionOptions.enableMemPattern = false;
  }
  if (options.threads !== undefined) {
    sessionOptions.intraOpNumThreads = options.threads;
    sessionOptions.interOpNumThreads = 1;
  }
  return sessionOptions;
}

export class OrtEngine implements Engine {
  readonly name = 'ort';

  async load(model: string | Uint8Array, options?: EngineOptions): Promise<Session> {
    const sessionOptions = ortSessionOptions(options);
    const create = (opts: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> =>
      typeof model === 'string' ? ort.InferenceSession.create(model, opts) : ort.InferenceSession.create(model, opts);
    const wantsCuda = sessionOptions.executionProviders!.some((p) => (typeof p === 'string' ? p : p.name) === 'cuda');
    // Checked first: onnxruntime's own error names neither the cause nor the remedy.
    if (wantsCuda) requireOrtCuda();
    try {
      return new OrtSession(await create(sessionOptions));
    } catch (err) {
      if (!wantsCuda || !/cuda|shared library/i.test((err as Error).message)) throw err;
      // The provider is installed but cannot start (no GPU, no CUDA 12 or cuDNN libraries).
      if (options?.device === 'auto' && !options.executionProviders) {
        return new OrtSession(await create({ ...sessionOptions, executionProviders: ['cpu'] }));
      }
      throw ortCudaLoadError(err);
    }
  }
}
