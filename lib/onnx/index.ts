// Public API of the model IO layer.
export { loadModel, parseModelProto, PROTOBUF_LIMIT, type LoadOptions } from './load';
export { saveModel, serializeModel, type ExternalDataOptions, type SaveOptions, type SaveResult } from './save';
export { Model, type ModelOptions, type NodeRef } from './model';
export { checkModel, validateModel } from './validate';
export { checkOps, assertOpsValid, type OpCheck } from './check-ops';
export { NEWEST_ONNX_OPSET } from './op-schemas';
export { ModelLoadError, ExternalDataError, ModelValidationError, ModelSaveError, OnnxError } from './errors';
export {
  DataType, dtypeInfo, dtypeName, dataTypeOf, byteLengthOf, dtypeOfArray, isKnownDataType,
  type DTypeInfo, type DTypeName, type TensorData, type TypedArray, type TypedArrayConstructor,
} from './dtype';
export { float32ToFloat16, float16ToFloat32, float32ToBfloat16, bfloat16ToFloat32 } from './float16';
export { packBits, unpackBits, packInt4, unpackInt4, packUint4, unpackUint4 } from './packed-bits';
export { createRandom, normalSampler, randomNormal, randomUniform } from './random';
export { decodeTensor, makeTensor, tensorBytes, tensorValues, tensorDims, elementCount, isExternal, type Tensor } from './tensor';
export { describeValueInfo, makeValueInfo, makeTensorType, makeShape, type Dim, type ValueInfo, type ValueKind } from './value-info';
export { attr, makeAttribute, decodeAttribute, getAttribute, makeNode, AttrType, type AttributeValue, type DecodedAttribute } from './attributes';
export { allGraphs, allTensors, subgraphsOf, type GraphRef } from './proto-walk';
export { sortNodes, nodeDependencies, outerReferences } from './topo';
export { GraphBuilder, type BuildOptions } from './builder';
export { buildMlp, type MlpOptions } from './models/mlp';
export { buildTransformerBlock, type TransformerBlockOptions } from './models/transformer-block';
export { buildBertEncoder, type BertEncoderOptions } from './models/bert-encoder';
export { buildExportedMlp, type ExportedMlpOptions } from './models/exported-mlp';
export { buildConvNet, type ConvNetOptions } from './models/conv-net';
export { buildResNetLike, type ResNetLikeOptions } from './models/resnet';
export {
  buildMobileNetV3Like, MOBILENET_V3_SMALL_BLOCKS, type InvertedResidualSpec, type MobileNetActivation, type MobileNetV3LikeOptions,
} from './models/mobilenet-v3';
export { buildConvOpsNet, type ConvOpsNetOptions } from './models/conv-ops-net';
export { buildIfModel, type IfModelOptions } from './models/if-model';
export * as proto from './gen/onnx_pb';
export { modelFiles, modelFilesBytes } from './model-files';
export { assertNotInput } from './output-path';
