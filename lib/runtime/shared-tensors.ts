// Tensors between the server and an instance process through shared memory (isolation 'process'):
// each side writes what it sends into a region it owns (the server: feeds; the child: outputs) and
// the IPC message carries only where each tensor lies, its type and dims. A block is freed only when
// the other side says it is done reading it, so it is never reused under a reader. A tensor that
// cannot go this way (strings, no shared memory on this platform, a full region with blocks still in
// use) travels in the message itself, as before.
import type { SharedRegion } from '../../binding';
import type { HostTensor, TensorData, TensorType } from '../engine/tensor';
import { kernels } from '../kernels';
import { alignBlock, BlockAllocator } from './block-allocator';
import { TYPED_ARRAYS } from './raw-tensor';

type NumericArray = Exclude<TensorData, string[]>;
type NumericType = Exclude<TensorType, 'string'>;

/** Which region: its path and size, and a generation that changes whenever the owner replaces it (paths are fd numbers, reused). */
export interface RegionId {
  path: string;
  byteLength: number;
  generation: number;
}

export interface SharedTensor {
  /** The reader rebuilds the data as TYPED_ARRAYS[type], the class the writer checked it has. */
  type: NumericType;
  dims: number[];
  /** Byte offset in the region and element count. */
  offset: number;
  length: number;
}

/** One run's tensors in one block of the sender's region. */
export interface SharedBatch {
  region: RegionId;
  block: number;
  tensors: Record<string, SharedTensor>;
}

/** Regions start at 1 MiB and grow to twice the largest batch, up to 1 GiB; a larger batch goes over IPC. */
const MIN_REGION_BYTES = 1 << 20;
const MAX_REGION_BYTES = 1 << 30;

/** Off where the platform has no shared memory, or where ONNXFORGE_PROCESS_TENSORS=ipc asks for the plain IPC channel (to compare). */
export function sharedTensorsEnabled(): boolean {
  return process.env.ONNXFORGE_PROCESS_TENSORS !== 'ipc' && kernels.sharedMemorySupported();
}

/** Whether a tensor can cross as raw bytes: numeric data held in its type's own typed-array class. */
function isPlainNumeric(tensor: HostTensor): tensor is HostTensor & { type: NumericType; data: NumericArray } {
  return tensor.type !== 'string' && !Array.isArray(tensor.data) && tensor.data.constructor === TYPED_ARRAYS[tensor.type];
}

/** The side that sends: owns a region, writes batches into blocks, frees a block when the reader is done with it. */
export class SharedWriter {
  private region: SharedRegion | undefined;
  private allocator = new BlockAllocator(0);
  private generation = 0;

  constructor(private readonly enabled: boolean) {}

  /** The tensors written into a new block, or undefined when they must travel in the message. */
  write(tensors: Record<string, HostTensor>): SharedBatch | undefined {
    if (!this.enabled) return undefined;
    const names = Object.keys(tensors);
    let total = 0;
    for (const name of names) {
      const tensor = tensors[name];
      if (!isPlainNumeric(tensor)) return undefined;
      total += alignBlock(tensor.data.byteLength);
    }
    if (total > MAX_REGION_BYTES) return undefined;
    let block = this.allocator.allocate(total);
    if (block === undefined) {
      // Only an idle region may be replaced: the reader may still be reading a block in use.
      if (this.allocator.inUse > 0) return undefined;
      try {
        this.replaceRegion(Math.min(MAX_REGION_BYTES, Math.max(MIN_REGION_BYTES, 2 ** Math.ceil(Math.log2(2 * total)))));
      } catch {
        // Out of memory or of file descriptors: this batch goes over IPC; the next one tries again.
        return undefined;
      }
      block = this.allocator.allocate(total)!;
    }
    const bytes = new Uint8Array(this.region!.buffer);
    const shared: Record<string, SharedTensor> = {};
    let offset = block;
    for (const name of names) {
      const { type, dims, data } = tensors[name] as HostTensor & { type: NumericType; data: NumericArray };
      bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
      shared[name] = { type, dims: [...dims], offset, length: data.length };
      offset += alignBlock(data.byteLength);
    }
    return { region: this.regionId(), block, tensors: shared };
  }

  /** The reader is done with a block; a block of a region since replaced is ignored. */
  release(region: RegionId, block: number): void {
    if (this.region && region.generation === this.generation) this.allocator.release(block);
  }

  /** Drops the region (the reader died or the owner is closing); the next write creates a new one. */
  close(): void {
    this.region?.close();
    this.region = undefined;
    this.allocator = new BlockAllocator(0);
  }

  private replaceRegion(byteLength: number): void {
    this.close();
    this.region = kernels.createSharedRegion(byteLength);
    this.allocator = new BlockAllocator(byteLength);
    this.generation++;
  }

  private regionId(): RegionId {
    return { path: this.region!.path, byteLength: this.region!.byteLength, generation: this.generation };
  }
}

/** The side that receives: maps the sender's current region, and gives its tensors as views or copies. */
export class SharedReader {
  private mapped: { id: RegionId; region: SharedRegion } | undefined;

  /** Views into the region (no copy): valid until the block is released. */
  view(batch: SharedBatch): Record<string, HostTensor> {
    return this.tensors(batch, false);
  }

  /** Copies out of the region: the block can be released at once. */
  copy(batch: SharedBatch): Record<string, HostTensor> {
    return this.tensors(batch, true);
  }

  close(): void {
    this.mapped?.region.close();
    this.mapped = undefined;
  }

  private tensors(batch: SharedBatch, copy: boolean): Record<string, HostTensor> {
    const buffer = this.map(batch.region).buffer;
    const out: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(batch.tensors)) {
      const ArrayType = TYPED_ARRAYS[t.type];
      if (!ArrayType) throw new Error(`shared tensor ${name}: unknown type ${String(t.type)}`);
      const view = new ArrayType(buffer, t.offset, t.length);
      out[name] = { type: t.type, dims: t.dims, data: copy ? view.slice() : view };
    }
    return out;
  }

  private map(id: RegionId): SharedRegion {
    const current = this.mapped?.id;
    if (current && current.generation === id.generation && current.path === id.path && current.byteLength === id.byteLength) return this.mapped!.region;
    // The sender replaced its region only once idle: nothing still reads the old one.
    this.close();
    this.mapped = { id, region: kernels.openSharedRegion(id.path, id.byteLength) };
    return this.mapped.region;
  }
}
