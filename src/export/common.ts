/** What both doors of `vae-onnx/export` offer: the converters, the ONNX builder, `vaeToOnnx` (bytes). */
export { emitActivation, SUPPORTED_ACTIVATIONS } from './activations.js';
export type { CheckInput, CheckInputOptions, CheckRow } from './check.js';
export { CHECK_TOLERANCE, checkInputs, compareCheck, predictTfjs } from './check.js';
export type { LayerConverter, LayerInfo } from './converter.js';
export { layerWeights, onlyInput } from './converter.js';
export { ExportError } from './errors.js';
export type { ExportOptions, LayerReport } from './export-model.js';
export {
  BATCH_DIM,
  checkExportOptions,
  convertLayersModel,
  countOps,
  DEFAULT_EXPORT_OPTIONS,
  defaultTensorNames,
  exportModel,
  exportModelWithReport,
  onnxShape,
} from './export-model.js';
export type { ExportVaeOptions, VaeOnnx } from './export-vae.js';
export { cardMetadata, DEFAULT_EXPORT_VAE_OPTIONS, vaeToOnnx } from './export-vae.js';
export type { Value } from './graph-builder.js';
export { GraphBuilder } from './graph-builder.js';
export type { LoadedModelJson, ModelJsonLimits, ModelJsonSource, NamedBytes } from './model-json.js';
export {
  checkShardPath,
  convertLoadedModel,
  DEFAULT_MODEL_JSON_LIMITS,
  filesSource,
  loadModelJson,
  normalizeKerasTopology,
  urlSource,
} from './model-json.js';
export type { AttributeValue, Dim, GraphParts, ModelParts, TensorData } from './onnx-builder.js';
export {
  attr,
  DataType,
  DEFAULT_OPSET,
  decodeModel,
  decodeTensor,
  encodeModel,
  encodeTensor,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
  OPSET_IR_VERSION,
  onnx,
  SUPPORTED_OPSETS,
} from './onnx-builder.js';
export type { Precision } from './precision.js';
export { quantizeInt8, toFloat16, toHalfBits } from './precision.js';
export { converterFor, registerConverter, supportedLayerClasses } from './registry.js';
