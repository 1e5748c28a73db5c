// The protobuf messages of grpc_predict_v2.proto as @grpc/proto-loader hands them over
// (LOADER_OPTIONS: snake_case names, int64 as strings, defaults filled in, bytes as Buffers).

export interface InferParameter {
  bool_param?: boolean;
  int64_param?: string;
  string_param?: string;
  double_param?: number;
  uint64_param?: string;
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
}

export type Parameters = Record<string, InferParameter>;

export interface InferTensorContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: string[];
  uint_contents: number[];
  uint64_contents: string[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Buffer[];
}

export interface InferInputTensor {
  name: string;
  datatype: string;
  shape: string[];
  parameters: Parameters;
  contents: InferTensorContents | null;
}

export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Parameters;
  inputs: InferInputTensor[];
  outputs: { name: string; parameters: Parameters }[];
  raw_input_contents: Buffer[];
}

/** What the server sends: int64 fields as numbers or strings, unset fields left out. */
export interface InferOutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  contents?: Partial<Record<keyof InferTensorContents, unknown[]>>;
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: InferOutputTensor[];
  raw_output_contents: Buffer[];
}
