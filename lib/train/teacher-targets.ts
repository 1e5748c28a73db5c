// The teacher's outputs for the samples of a batch: run in onnxruntime as the batch comes, or all
// computed once and kept in a safetensors file (--cache-teacher) that later runs read instead.
import * as fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { create } from '@bufbuild/protobuf';
import { SafetensorsFile, writeSafetensors } from '../convert/safetensors';
import { ortSessionOptions } from '../engine/ort-engine';
import type { HostTensor } from '../engine/tensor';
import { ValueInfoProtoSchema } from '../onnx/gen/onnx_pb';
import type { Model } from '../onnx/model';
import { serializeModel } from '../onnx/save';
import { bytesOf, viewBytesAs } from '../onnx/tensor';
import { takeRows, type Dataset } from './dataset';
import { predict } from './evaluate';
import { hostToOrt, ortToHost } from './tensors';

export interface TeacherTargets {
  /** The teacher's values `names` for samples `indices`, in that order. */
  rows(indices: number[]): Promise<HostTensor[]>;
  /** 'computed' each batch, 'cached' (computed now and written), or 'loaded' from the cache file. */
  source: 'computed' | 'cached' | 'loaded';
  release(): Promise<void>;
}

/** The teacher with `values` (its output and intermediate values to match) as graph outputs. */
function exposing(teacher: Model, values: readonly string[]): Model {
  const model = teacher.clone();
  const outputs = new Set(model.graph.output.map((o) => o.name));
  for (const v of values) {
    if (outputs.has(v)) continue;
    if (!model.producer(v) && !model.graph.input.some((i) => i.name === v)) throw new Error(`the teacher has no value "${v}"`);
    model.graph.output.push(create(ValueInfoProtoSchema, { name: v }));
  }
  return model;
}

function readCache(file: string, names: readonly string[], samples: number): HostTensor[] | undefined {
  if (!fs.existsSync(file)) return undefined;
  const st = SafetensorsFile.open(file);
  if (st.metadata.samples !== String(samples) || names.some((n) => !st.entry(n))) {
    throw new Error(`${file} holds teacher outputs for other data (${st.metadata.samples} samples, ${st.entries.map((e) => e.name).join(', ')}); remove it or name another file`);
  }
  return names.map((n) => {
    const e = st.entry(n) as NonNullable<ReturnType<typeof st.entry>>;
    const count = e.shape.reduce((a, b) => a * b, 1);
    return { type: 'float32', dims: e.shape, data: viewBytesAs(st.read(n), Float32Array, count) as Float32Array };
  });
}

export async function teacherTargets(teacher: Model, data: Dataset, names: readonly string[], batch: number, cacheFile?: string, threads?: number): Promise<TeacherTargets> {
  const model = exposing(teacher, names);
  if (cacheFile) {
    let all = readCache(cacheFile, names, data.size);
    const source = all ? 'loaded' : 'cached';
    if (!all) {
      const out = await predict(model, data, names, batch, threads);
      all = names.map((n) => out[n]);
      writeSafetensors(cacheFile, names.map((n, i) => ({ name: n, dtype: 'float32', dims: all![i].dims, bytes: () => bytesOf(all![i].data as Float32Array) })), { samples: String(data.size) });
    }
    const tables = all;
    return { source, rows: async (indices) => tables.map((t) => takeRows(t, indices)), release: async () => undefined };
  }
  const session = await ort.InferenceSession.create(serializeModel(model), ortSessionOptions({ threads }));
  return {
    source: 'computed',
    rows: async (indices) => {
      const feeds = Object.fromEntries(Object.entries(data.inputs).map(([n, t]) => [n, hostToOrt(takeRows(t, indices))]));
      const out = await session.run(feeds, [...names]);
      return names.map((n) => ortToHost(out[n]));
    },
    release: () => session.release(),
  };
}
