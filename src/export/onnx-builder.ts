/**
 * One small builder per ONNX proto message, over onnx-proto's classes. Attributes are sorted by
 * name and nothing depends on time or iteration order of hash maps, so the same input always
 * gives the same bytes.
 */
import onnxProto from 'onnx-proto';
import { ExportError } from './errors.js';

const { onnx } = onnxProto;

/** onnx-proto's message namespace, re-exported for callers that decode models. */
export { onnx };

type TensorProto = onnxProto.onnx.ITensorProto;
type NodeProto = onnxProto.onnx.INodeProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
type GraphProto = onnxProto.onnx.IGraphProto;
type ModelProto = onnxProto.onnx.IModelProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

/** ONNX element types this project writes. */
export const DataType = Object.freeze({
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
});

/**
 * The IR version that goes with each default-domain opset this project can target, from the ONNX
 * versioning table: opset 13–14 came with IR 7, 15–18 with IR 8, 19–20 with IR 9, 21 with IR 10.
 */
export const OPSET_IR_VERSION: Readonly<Record<number, number>> = Object.freeze({
  13: 7,
  14: 7,
  15: 8,
  16: 8,
  17: 8,
  18: 8,
  19: 9,
  20: 9,
  21: 10,
});

/**
 * The opset every export targets unless told otherwise (exportModel, exportVae, vae train and vae
 * export): the newest that the reference checker of python3-onnx 1.12 knows, and that torch.onnx
 * also writes by default.
 */
export const DEFAULT_OPSET = 17;

/** The opsets this project can write, lowest first. */
export const SUPPORTED_OPSETS: readonly number[] = Object.freeze(Object.keys(OPSET_IR_VERSION).map(Number));

/** An attribute value with its ONNX type made explicit (a JS number cannot tell int from float). */
export type AttributeValue =
  | { int: number }
  | { float: number }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { string: string }
  | { strings: readonly string[] }
  | { tensor: TensorProto }
  | { graph: GraphProto };

/** Typed attribute constructors: `attr.int(1)`, `attr.ints([1, 2])`, … */
export const attr = Object.freeze({
  int: (value: number): AttributeValue => ({ int: value }),
  float: (value: number): AttributeValue => ({ float: value }),
  ints: (value: readonly number[]): AttributeValue => ({ ints: value }),
  floats: (value: readonly number[]): AttributeValue => ({ floats: value }),
  string: (value: string): AttributeValue => ({ string: value }),
  strings: (value: readonly string[]): AttributeValue => ({ strings: value }),
  tensor: (value: TensorProto): AttributeValue => ({ tensor: value }),
  graph: (value: GraphProto): AttributeValue => ({ graph: value }),
});

const AttrType = onnx.AttributeProto.AttributeType;

function makeAttribute(name: string, value: AttributeValue): AttributeProto {
  if ('int' in value) return { name, type: AttrType.INT, i: value.int };
  if ('float' in value) return { name, type: AttrType.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: AttrType.INTS, ints: [...value.ints] };
  if ('floats' in value) return { name, type: AttrType.FLOATS, floats: [...value.floats] };
  if ('string' in value) return { name, type: AttrType.STRING, s: new TextEncoder().encode(value.string) };
  if ('strings' in value) {
    return { name, type: AttrType.STRINGS, strings: value.strings.map((v) => new TextEncoder().encode(v)) };
  }
  if ('graph' in value) return { name, type: AttrType.GRAPH, g: value.graph };
  return { name, type: AttrType.TENSOR, t: value.tensor };
}

/** A NodeProto with its attributes sorted by name. */
export function makeNode(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  name: string,
  attributes: Readonly<Record<string, AttributeValue>> = {},
): NodeProto {
  const names = Object.keys(attributes).sort();
  return {
    opType,
    input: [...inputs],
    output: [...outputs],
    name,
    attribute: names.map((n) => makeAttribute(n, attributes[n] as AttributeValue)),
  };
}

/** Tensor contents this project writes, by element type. */
export type TensorData = Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array;

/**
 * A TensorProto holding `data` as little-endian raw bytes.
 * @param dataType - needed only for Uint16Array (float16 bits); inferred from the array otherwise.
 * @throws ExportError when the number of elements does not match the dims.
 */
export function makeTensor(
  name: string,
  dims: readonly number[],
  data: TensorData,
  dataType?: number,
): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new ExportError(
      `cannot build tensor "${name}": dims [${dims.join(', ')}] need ${count} elements, got ${data.length}`,
    );
  }
  const type = dataType ?? inferDataType(data);
  return { name, dims: [...dims], dataType: type, rawData: littleEndianBytes(data) };
}

function inferDataType(data: TensorData): number {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof Int32Array) return DataType.INT32;
  if (data instanceof BigInt64Array) return DataType.INT64;
  if (data instanceof Uint8Array) return DataType.UINT8;
  if (data instanceof Int8Array) return DataType.INT8;
  return DataType.FLOAT16;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndianBytes(data: TensorData): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (!LITTLE_ENDIAN && data.BYTES_PER_ELEMENT > 1) {
    for (let i = 0; i < bytes.length; i += data.BYTES_PER_ELEMENT)
      bytes.subarray(i, i + data.BYTES_PER_ELEMENT).reverse();
  }
  return bytes;
}

/** One dimension of a value's shape: a size, a symbolic name, or unknown. */
export type Dim = number | string | null;

/** A ValueInfoProto for a tensor of `elemType` and `shape` (no shape at all when `shape` is undefined). */
export function makeValueInfo(
  name: string,
  elemType: number,
  shape: readonly Dim[] | undefined,
): ValueInfoProto {
  if (shape === undefined) return { name, type: { tensorType: { elemType } } };
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: shape.map((d) =>
            typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {},
          ),
        },
      },
    },
  };
}

/** The parts of a GraphProto. */
export interface GraphParts {
  name: string;
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  initializers: TensorProto[];
  valueInfo?: ValueInfoProto[];
  docString?: string;
}

/** A GraphProto from its parts. */
export function makeGraph(parts: GraphParts): GraphProto {
  return {
    name: parts.name,
    node: parts.nodes,
    input: parts.inputs,
    output: parts.outputs,
    initializer: parts.initializers,
    valueInfo: parts.valueInfo ?? [],
    ...(parts.docString === undefined ? {} : { docString: parts.docString }),
  };
}

/** The parts of a ModelProto besides the graph. */
export interface ModelParts {
  graph: GraphProto;
  opset: number;
  producerName: string;
  producerVersion: string;
  /** Written as metadata_props, sorted by key. */
  metadata?: Readonly<Record<string, string>>;
  docString?: string;
}

/**
 * A ModelProto for the default ONNX domain at `opset`, with the IR version the opset table gives.
 * @throws ExportError for an opset outside SUPPORTED_OPSETS.
 */
export function makeModel(parts: ModelParts): ModelProto {
  const irVersion = OPSET_IR_VERSION[parts.opset];
  if (irVersion === undefined) {
    throw new ExportError(
      `cannot build model: opset ${parts.opset} is not supported; expected one of ${SUPPORTED_OPSETS.join(', ')}`,
    );
  }
  const metadata = parts.metadata ?? {};
  return {
    irVersion,
    opsetImport: [{ domain: '', version: parts.opset }],
    producerName: parts.producerName,
    producerVersion: parts.producerVersion,
    graph: parts.graph,
    metadataProps: Object.keys(metadata)
      .sort()
      .map((key) => ({ key, value: metadata[key] as string })),
    ...(parts.docString === undefined ? {} : { docString: parts.docString }),
  };
}

/** Serializes a ModelProto to bytes. */
export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** Parses ONNX bytes into a ModelProto message. */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

/** A float32 TensorProto as bytes (the `input_0.pb` / `output_0.pb` files of the ONNX test-data layout). */
export function encodeTensor(name: string, dims: readonly number[], data: Float32Array): Uint8Array {
  return onnx.TensorProto.encode(makeTensor(name, dims, data)).finish();
}

/**
 * Reads a float32 TensorProto written with raw_data or float_data.
 * @throws ExportError for another element type.
 */
export function decodeTensor(bytes: Uint8Array): { name: string; dims: number[]; data: Float32Array } {
  const t = onnx.TensorProto.decode(bytes);
  if (t.dataType !== DataType.FLOAT)
    throw new ExportError(`cannot read tensor "${t.name}": element type ${t.dataType} is not float32`);
  const dims = t.dims.map(Number);
  const raw = t.rawData;
  const data =
    raw && raw.length > 0 ? new Float32Array(Uint8Array.from(raw).buffer) : Float32Array.from(t.floatData);
  return { name: t.name, dims, data };
}
