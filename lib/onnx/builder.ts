// GraphBuilder: valid ONNX models in a few lines, for tests, benchmarks and examples.
//   const g = new GraphBuilder();
//   const x = g.input('x', 'float32', ['batch', 4]);
//   const w = g.initializer('w', new Float32Array(12), [4, 3]);
//   g.output(g.node('MatMul', [x, w]), 'float32', ['batch', 3]);
//   const model = g.build();
import { create } from '@bufbuild/protobuf';
import {
  GraphProtoSchema, ModelProtoSchema, OperatorSetIdProtoSchema,
  type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from './gen/onnx_pb';
import type { DTypeName, TensorData } from './dtype';
import { makeNode, type AttributeValue } from './attributes';
import { Model } from './model';
import { allGraphs } from './proto-walk';
import { makeTensor } from './tensor';
import { makeValueInfo, type Dim } from './value-info';
import { validateModel } from './validate';
import { OnnxError } from './errors';

export interface BuildOptions {
  /** Default-domain opset (default 21). */
  opset?: number;
  /** IR version (default 10). */
  irVersion?: number;
  /** Versions for other domains used by nodes (unlisted ones get 1), e.g. { 'com.microsoft': 1 }. */
  opsets?: Record<string, number>;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Run validateModel on the result (default true). */
  validate?: boolean;
}

/** Names shared by a graph and its subgraphs, so generated names never collide across scopes. */
class NameScope {
  private readonly used = new Set<string>();
  private counter = 0;

  claim(name: string): string {
    if (this.used.has(name)) throw new OnnxError(`name "${name}" is already used in this model`);
    this.used.add(name);
    return name;
  }

  fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`; while (this.used.has(name));
    this.used.add(name);
    return name;
  }
}

export class GraphBuilder {
  readonly name: string;
  private readonly scope: NameScope;
  private readonly nodes: NodeProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly valueInfos: ValueInfoProto[] = [];

  constructor(name = 'main', scope = new NameScope()) {
    this.name = name;
    this.scope = scope;
  }

  /** A builder for an If/Loop/Scan body; it may read this graph's values by name. */
  subgraph(name: string): GraphBuilder {
    return new GraphBuilder(name, this.scope);
  }

  /** A fresh value name with this prefix. */
  freshName(prefix: string): string {
    return this.scope.fresh(prefix);
  }

  input(name: string, dtype: DTypeName, dims?: readonly Dim[]): string {
    this.inputs.push(makeValueInfo(this.scope.claim(name), dtype, dims));
    return name;
  }

  /** A constant weight; `data` is viewed, not copied. */
  initializer(name: string, data: TensorData, dims: readonly number[], dtype?: DTypeName): string {
    this.initializers.push(makeTensor(this.scope.claim(name), data, dims, dtype));
    return name;
  }

  /**
   * Add a node; returns its first output name. `outputs` names the outputs, or gives how many to
   * generate (default 1). Empty strings in `inputs` skip optional inputs.
   */
  node(op: string, inputs: readonly string[], outputs: readonly string[] | number = 1,
    attrs: Record<string, AttributeValue> = {}, domain?: string): string {
    const names = typeof outputs === 'number'
      ? Array.from({ length: outputs }, () => this.scope.fresh(op))
      : outputs.map((o) => (o === '' ? o : this.scope.claim(o)));
    this.nodes.push(makeNode(op, inputs, names, attrs, { name: this.scope.fresh(`${op}_node`), domain }));
    return names[0];
  }

  /** Declare a graph output (an existing value name) with its type. */
  output(name: string, dtype: DTypeName, dims?: readonly Dim[]): string {
    this.outputs.push(makeValueInfo(name, dtype, dims));
    return name;
  }

  /** Record the type of an intermediate value. */
  valueInfo(name: string, dtype: DTypeName, dims?: readonly Dim[]): void {
    this.valueInfos.push(makeValueInfo(name, dtype, dims));
  }

  buildGraph(): GraphProto {
    return create(GraphProtoSchema, {
      name: this.name,
      node: [...this.nodes],
      input: [...this.inputs],
      output: [...this.outputs],
      initializer: [...this.initializers],
      valueInfo: [...this.valueInfos],
    });
  }

  build(options: BuildOptions = {}): Model {
    const graph = this.buildGraph();
    const domains = new Set<string>();
    for (const { graph: g } of allGraphs(graph)) for (const n of g.node) if (n.domain !== '' && n.domain !== 'ai.onnx') domains.add(n.domain);
    for (const d of Object.keys(options.opsets ?? {})) if (d !== '') domains.add(d);
    const proto = create(ModelProtoSchema, {
      irVersion: BigInt(options.irVersion ?? 10),
      producerName: options.producerName ?? 'onnxforge',
      graph,
      opsetImport: [
        create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(options.opset ?? options.opsets?.[''] ?? 21) }),
        ...[...domains].map((domain) => create(OperatorSetIdProtoSchema, { domain, version: BigInt(options.opsets?.[domain] ?? 1) })),
      ],
    });
    if (options.producerVersion !== undefined) proto.producerVersion = options.producerVersion;
    if (options.docString !== undefined) proto.docString = options.docString;
    const model = new Model(proto);
    if (options.validate !== false) validateModel(model);
    return model;
  }
}
