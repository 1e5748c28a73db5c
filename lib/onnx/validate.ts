// Structural checks in the spirit of onnx.checker: things that would make passes or runtimes misbehave.
// Deliberately lenient where real exporters differ (unsorted nodes, -1 dims in value infos).
import type { FunctionProto, GraphProto, ModelProto, NodeProto, TensorProto, TypeProto, ValueInfoProto } from './gen/onnx_pb';
import { byteLengthOf, dtypeInfo, isKnownDataType } from './dtype';
import { ModelValidationError, OnnxError } from './errors';
import { parseExternalLocation } from './external-location';
import { nodeLabel, subgraphsOf } from './proto-walk';
import { isExternal } from './tensor';
import { sortNodes } from './topo';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_PROBLEMS = 50;

class Checker {
  readonly problems: string[] = [];
  private readonly domains: Set<string>;
  private readonly functions: Set<string>;

  constructor(private readonly model: ModelProto) {
    this.domains = new Set(model.opsetImport.map((o) => normalizeDomain(o.domain)));
    this.functions = new Set(model.functions.map((f) => `${f.domain}\0${f.name}`));
  }

  report(problem: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(problem);
  }

  tensor(tensor: TensorProto, where: string): void {
    const what = `${where}: tensor "${tensor.name}"`;
    let count = 1n;
    for (const d of tensor.dims) {
      if (d < 0n || d > MAX_SAFE) return this.report(`${what} has dimension ${d}, outside 0..2^53-1`);
      count *= d;
    }
    if (count > MAX_SAFE) return this.report(`${what} has ${count} elements, more than 2^53-1`);
    if (!isKnownDataType(tensor.dataType) || tensor.dataType === 0) return this.report(`${what} has unknown data_type ${tensor.dataType}`);
    const info = dtypeInfo(tensor.dataType);
    const n = Number(count);
    if (isExternal(tensor)) {
      try {
        parseExternalLocation(tensor);
      } catch (err) {
        this.report(`${where}: ${(err as Error).message}`);
      }
      return;
    }
    if (info.name === 'string') {
      if (tensor.stringData.length !== n) this.report(`${what} has ${tensor.stringData.length} strings, its shape needs ${n}`);
      return;
    }
    const bytes = byteLengthOf(info.name, n);
    const values = info.bits < 8 ? bytes : n * info.lanes;
    if (tensor.rawData.length > 0) {
      if (tensor.rawData.length !== bytes) this.report(`${what} has ${tensor.rawData.length} bytes of raw_data, its ${info.name} shape [${tensor.dims}] needs ${bytes}`);
      return;
    }
    const typed = tensor.floatData.length + tensor.doubleData.length + tensor.int32Data.length + tensor.int64Data.length + tensor.uint64Data.length;
    if (typed !== values) this.report(`${what} has ${typed} values, its ${info.name} shape [${tensor.dims}] needs ${values}`);
  }

  type(type: TypeProto | undefined, where: string): void {
    switch (type?.value.case) {
      case 'tensorType':
      case 'sparseTensorType':
        for (const d of type.value.value.shape?.dim ?? []) {
          if (d.value.case === 'dimValue' && (d.value.value < -1n || d.value.value > MAX_SAFE)) {
            this.report(`${where} has dimension ${d.value.value}, outside -1..2^53-1`);
          }
        }
        return;
      case 'sequenceType':
      case 'optionalType':
        return this.type(type.value.value.elemType, where);
      case 'mapType':
        return this.type(type.value.value.valueType, where);
      default:
    }
  }

  valueInfos(infos: ValueInfoProto[], where: string): void {
    for (const vi of infos) this.type(vi.type, `${where}: value "${vi.name}"`);
  }

  node(node: NodeProto, index: number, where: string, scopes: Set<string>[]): void {
    const label = `${where}: node "${nodeLabel(node, index)}" (${node.opType || '?'})`;
    if (node.opType === '') this.report(`${label} has no op_type`);
    const domain = normalizeDomain(node.domain);
    if (!this.domains.has(domain) && !this.functions.has(`${node.domain}\0${node.opType}`)) {
      this.report(`${label} uses domain "${node.domain}", which the model does not import in opset_import`);
    }
    for (const input of node.input) {
      if (input !== '' && !scopes.some((s) => s.has(input))) {
        this.report(`${label} reads "${input}", which no node, graph input or initializer produces`);
      }
    }
    for (const a of node.attribute) {
      if (a.t) this.tensor(a.t, `${label} attribute "${a.name}"`);
      for (const t of a.tensors) this.tensor(t, `${label} attribute "${a.name}"`);
    }
    for (const sub of subgraphsOf(node)) this.graph(sub.graph, `${where}/${nodeLabel(node, index)}.${sub.name}`, scopes);
  }

  graph(graph: GraphProto, where: string, outer: Set<string>[]): void {
    const local = new Set<string>();
    for (const input of graph.input) local.add(input.name);
    const initNames = new Set<string>();
    for (const init of graph.initializer) {
      if (initNames.has(init.name)) this.report(`${where}: initializer "${init.name}" is defined twice`);
      initNames.add(init.name);
      local.add(init.name);
      this.tensor(init, where);
    }
    for (const sparse of graph.sparseInitializer) {
      if (sparse.values) local.add(sparse.values.name);
    }
    graph.node.forEach((node, i) => {
      for (const out of node.output) {
        if (out === '') continue;
        if (local.has(out)) this.report(`${where}: value "${out}" is assigned more than once (again by node "${nodeLabel(node, i)}")`);
        local.add(out);
      }
    });
    const scopes = [local, ...outer];
    graph.node.forEach((node, i) => this.node(node, i, where, scopes));
    for (const out of graph.output) {
      if (!scopes.some((s) => s.has(out.name))) this.report(`${where}: graph output "${out.name}" is not produced by anything`);
    }
    const cycle = sortNodes(graph).cycle;
    if (cycle) this.report(`${where}: nodes form a cycle: ${cycle.map((c) => `"${c}"`).join(' -> ')}`);
    this.valueInfos(graph.input, where);
    this.valueInfos(graph.output, where);
    this.valueInfos(graph.valueInfo, where);
  }

  func(fn: FunctionProto): void {
    const where = `function "${fn.domain}:${fn.name}"`;
    const local = new Set(fn.input);
    fn.node.forEach((node) => node.output.forEach((o) => o !== '' && local.add(o)));
    const innerDomains = new Set(fn.opsetImport.map((o) => normalizeDomain(o.domain)));
    fn.node.forEach((node, i) => {
      for (const input of node.input) {
        if (input !== '' && !local.has(input)) this.report(`${where}: node "${nodeLabel(node, i)}" reads "${input}", which nothing in the function produces`);
      }
      if (!innerDomains.has(normalizeDomain(node.domain)) && !this.domains.has(normalizeDomain(node.domain)) && !this.functions.has(`${node.domain}\0${node.opType}`)) {
        this.report(`${where}: node "${nodeLabel(node, i)}" uses domain "${node.domain}", which is not imported`);
      }
    });
    for (const out of fn.output) if (!local.has(out)) this.report(`${where}: output "${out}" is not produced by anything`);
  }

  run(): string[] {
    const m = this.model;
    if (m.irVersion <= 0n) this.report('ir_version is missing (is this an ONNX model?)');
    if (m.irVersion >= 3n && m.opsetImport.length === 0) this.report('opset_import is empty (truncated file?)');
    if (!m.graph) {
      this.report('model has no graph');
      return this.problems;
    }
    this.graph(m.graph, `graph "${m.graph.name || 'main'}"`, []);
    for (const fn of m.functions) this.func(fn);
    return this.problems;
  }
}

/** 'ai.onnx' and '' name the same default operator set. */
export function normalizeDomain(domain: string): string {
  return domain === 'ai.onnx' ? '' : domain;
}

/** Every structural problem found (at most 50); empty when the model is sound. */
export function checkModel(model: ModelProto | { proto: ModelProto }): string[] {
  const proto = 'proto' in model ? model.proto : model;
  try {
    return new Checker(proto).run();
  } catch (err) {
    if (err instanceof OnnxError) return [err.message];
    throw err;
  }
}

/** Throws ModelValidationError naming the first problem when checkModel finds any. */
export function validateModel(model: ModelProto | { proto: ModelProto }): void {
  const problems = checkModel(model);
  if (problems.length > 0) throw new ModelValidationError(problems);
}
