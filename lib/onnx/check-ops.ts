// Checks every node against the op schemas we know (op-schemas.ts) before a model is written, so that
// what onnxruntime would refuse at load (an unknown op, an opset no runtime has, a Gemm with no
// inputs, an attribute given twice) is named here, with the node, instead of being written.
import { isFieldSet } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType as AttrType, AttributeProtoSchema, type AttributeProto, type ModelProto, type NodeProto } from './gen/onnx_pb';
import { ModelValidationError } from './errors';
import { NEWEST_ONNX_OPSET, opSchema, otherOnnxOpSince, type OpSchema } from './op-schemas';
import { allGraphs, nodeLabel } from './proto-walk';
import { normalizeDomain } from './validate';

export interface OpCheck {
  /** What a runtime would refuse; empty when none. */
  problems: string[];
  /** What the table cannot check (ops of custom domains), said once per op. */
  notes: string[];
}

const MAX_PROBLEMS = 50;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function countRange([min, max]: [number, number], word: string): string {
  if (min === max) return plural(min, word);
  return max === Number.POSITIVE_INFINITY ? `at least ${plural(min, word)}` : `${min} to ${max} ${word}s`;
}

function checkAgainst(schema: OpSchema, node: NodeProto, label: string, report: (p: string) => void): void {
  const [minIn, maxIn] = schema.inputs;
  if (node.input.length < minIn || node.input.length > maxIn) {
    report(`${label} has ${plural(node.input.length, 'input')}; ${node.opType} takes ${countRange(schema.inputs, 'input')}`);
  } else {
    const missing = node.input.slice(0, minIn).findIndex((name) => name === '');
    if (missing >= 0) report(`${label} leaves its required input ${missing} empty`);
  }
  const [minOut, maxOut] = schema.outputs;
  if (node.output.length < minOut || node.output.length > maxOut) {
    report(`${label} has ${plural(node.output.length, 'output')}; ${node.opType} gives ${countRange(schema.outputs, 'output')}`);
  }
  const names = node.attribute.map((a) => a.name);
  for (const name of schema.required) if (!names.includes(name)) report(`${label} lacks the required attribute "${name}"`);
  if (schema.attributes) {
    for (const name of names) {
      if (!schema.attributes.includes(name)) report(`${label} has attribute "${name}", which ${node.opType} does not have (it has: ${schema.attributes.join(', ') || 'none'})`);
    }
  }
}

const F = AttributeProtoSchema.field;

/** The value fields an attribute holds data in, by the type each one means. */
function heldTypes(a: AttributeProto): AttrType[] {
  const held: [boolean, AttrType][] = [
    [isFieldSet(a, F.f), AttrType.FLOAT], [isFieldSet(a, F.i), AttrType.INT], [isFieldSet(a, F.s), AttrType.STRING],
    [a.t !== undefined, AttrType.TENSOR], [a.g !== undefined, AttrType.GRAPH], [a.sparseTensor !== undefined, AttrType.SPARSE_TENSOR],
    [a.tp !== undefined, AttrType.TYPE_PROTO], [a.floats.length > 0, AttrType.FLOATS], [a.ints.length > 0, AttrType.INTS],
    [a.strings.length > 0, AttrType.STRINGS], [a.tensors.length > 0, AttrType.TENSORS], [a.graphs.length > 0, AttrType.GRAPHS],
    [a.sparseTensors.length > 0, AttrType.SPARSE_TENSORS], [a.typeProtos.length > 0, AttrType.TYPE_PROTOS],
  ];
  return held.filter(([set]) => set).map(([, type]) => type);
}

/** What onnxruntime's checker refuses in an attribute itself: no type, or data in a field of another type. */
function attributeProblem(a: AttributeProto): string | undefined {
  if (a.refAttrName !== '') return undefined; // a function body's reference to the caller's attribute
  const name = AttrType[a.type] as string | undefined;
  if (a.type === AttrType.UNDEFINED || name === undefined) return `attribute "${a.name}" has no valid type (${a.type})`;
  const held = heldTypes(a);
  if (held.length > 1) return `attribute "${a.name}" holds values of ${held.length} kinds (${held.map((t) => AttrType[t]).join(', ')}); it must hold one`;
  if (held.length === 1 && held[0] !== a.type) return `attribute "${a.name}" is declared ${name} but holds a ${AttrType[held[0]]}`;
  return undefined;
}

/** Every node of the model (subgraphs included) checked against the op schemas we know. */
export function checkOps(model: ModelProto | { proto: ModelProto }): OpCheck {
  const proto = 'proto' in model ? model.proto : model;
  const problems: string[] = [];
  const notes = new Set<string>();
  const report = (p: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const opsets = new Map<string, number>();
  for (const o of proto.opsetImport) {
    const domain = normalizeDomain(o.domain);
    const version = Number(o.version);
    if (opsets.has(domain)) report(`opset_import names domain "${o.domain}" twice`);
    opsets.set(domain, version);
    if (domain === '' && (version < 1 || version > NEWEST_ONNX_OPSET)) {
      report(`opset_import asks for ONNX opset ${o.version}; onnxruntime knows opsets 1 to ${NEWEST_ONNX_OPSET}`);
    }
  }
  const functions = new Set(proto.functions.map((f) => `${f.domain}\0${f.name}`));
  if (!proto.graph) return { problems, notes: [] };
  for (const { graph, path } of allGraphs(proto.graph)) {
    graph.node.forEach((node, i) => {
      const label = `graph "${path}": node "${nodeLabel(node, i)}" (${node.opType || '?'})`;
      const seen = new Set<string>();
      for (const a of node.attribute) {
        if (seen.has(a.name)) report(`${label} has attribute "${a.name}" more than once`);
        seen.add(a.name);
        const problem = attributeProblem(a);
        if (problem) report(`${label}: ${problem}`);
      }
      if (functions.has(`${node.domain}\0${node.opType}`)) return; // a model-local function: checked by its body
      const domain = normalizeDomain(node.domain);
      const version = opsets.get(domain);
      const schema = opSchema(domain, node.opType);
      if (domain !== '') {
        if (schema && version !== undefined && version >= schema.since) checkAgainst(schema, node, label, report);
        else notes.add(`op ${node.domain}:${node.opType} belongs to a custom domain; only the runtime that provides it can check it`);
        return;
      }
      const since = schema?.since ?? otherOnnxOpSince(node.opType);
      if (since === undefined) return report(`${label}: "${node.opType}" is not an ONNX operator`);
      if (version !== undefined && version < since) return report(`${label}: ${node.opType} exists from ONNX opset ${since}, the model imports opset ${version}`);
      if (schema) checkAgainst(schema, node, label, report);
    });
  }
  return { problems, notes: [...notes] };
}

/** Throws ModelValidationError naming the first problem checkOps finds. */
export function assertOpsValid(model: ModelProto | { proto: ModelProto }): void {
  const { problems } = checkOps(model);
  if (problems.length > 0) throw new ModelValidationError(problems);
}
