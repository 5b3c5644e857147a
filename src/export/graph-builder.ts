import type onnxProto from 'onnx-proto';
import { ExportError } from './errors.js';
import {
  type AttributeValue,
  attr,
  DataType,
  type Dim,
  makeGraph,
  makeNode,
  makeTensor,
  makeValueInfo,
  type TensorData,
} from './onnx-builder.js';
import { type Precision, quantizeInt8, toFloat16 } from './precision.js';

type GraphProto = onnxProto.onnx.IGraphProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

/** A tensor of the graph under construction: its name and, where known, its shape (batch first). */
export interface Value {
  name: string;
  shape: Dim[];
}

/**
 * The ONNX graph under construction: nodes, initializers and known shapes. Converters add to it
 * through `node` and `constant`; `finish` prunes what the outputs do not need and names the outputs.
 */
export class GraphBuilder {
  readonly opset: number;
  private readonly nodes: NodeProto[] = [];
  /** Shared with subgraphs: every initializer lives in the main graph (bodies read them from outer scope). */
  private readonly initializers: Map<string, TensorProto>;
  /** Float weights that int8 may quantize, with the axis of their output channels. */
  private readonly quantizable: Map<string, { dims: number[]; data: Float32Array; axis: number }>;
  private readonly precision: Precision;
  private readonly shapes = new Map<string, Dim[]>();
  /** Element types of values that are not float32 (e.g. the int64 output of a Cast). */
  private readonly types = new Map<string, number>();
  /** Shared with subgraphs, so that a name is unique across the whole model. */
  private readonly used: Set<string>;
  private readonly reserved: Set<string>;
  private readonly produced: Set<string>;
  private readonly inputs: Value[] = [];
  /** Outer-scope names read by the subgraphs of a node, keyed by the node's first output. */
  private readonly implicitInputs = new Map<string, readonly string[]>();
  /** Set on a subgraph: the graph whose scope it reads. */
  private readonly parent: GraphBuilder | undefined;

  constructor(opset: number, precision: Precision = 'fp32', parent?: GraphBuilder) {
    this.opset = opset;
    this.precision = precision;
    this.parent = parent;
    this.initializers = parent?.initializers ?? new Map();
    this.quantizable = parent?.quantizable ?? new Map();
    this.used = parent?.used ?? new Set();
    this.reserved = parent?.reserved ?? new Set();
    this.produced = parent?.produced ?? new Set();
  }

  /**
   * A builder for a subgraph (the body of a Scan): its nodes are its own, while names, initializers
   * and precision are shared with this graph, so weights stay main-graph initializers read from
   * outer scope. Finish it with `finishBody`.
   */
  subgraph(): GraphBuilder {
    return new GraphBuilder(this.opset, this.precision, this);
  }

  /** True when this builder makes a subgraph (see `subgraph`). */
  get isSubgraph(): boolean {
    return this.parent !== undefined;
  }

  /** Declares a subgraph input of a given element type (float32 unless told). */
  bodyInput(base: string, shape: Dim[], type: number = DataType.FLOAT): Value {
    const value = { name: this.unique(base), shape };
    this.inputs.push(value);
    this.shapes.set(value.name, shape);
    if (type !== DataType.FLOAT) this.types.set(value.name, type);
    return value;
  }

  /**
   * Completes a subgraph: its inputs (as declared), the given outputs (each copied through an
   * Identity under a fresh name when it is not a value of this body), and the outer-scope names its
   * nodes read, which the enclosing node must keep alive.
   */
  finishBody(name: string, outputs: readonly Value[]): { graph: GraphProto; outerNames: string[] } {
    const own = new Set<string>(this.inputs.map((v) => v.name));
    for (const n of this.nodes) for (const o of n.output ?? []) own.add(o);
    const outs = outputs.map((v) => {
      if (!own.has(v.name) || outputs.filter((w) => w.name === v.name).length > 1 || this.isInput(v.name)) {
        const copy = this.node('Identity', [v.name], [{ name: `${v.name}_out`, shape: v.shape }], {
          name: `${v.name}_out/Identity`,
        })[0] as Value;
        own.add(copy.name);
        return copy;
      }
      return v;
    });
    const outer = new Set<string>();
    for (const n of this.nodes) {
      for (const input of n.input ?? []) if (input !== '' && !own.has(input)) outer.add(input);
      for (const implicit of this.implicitInputs.get(n.output?.[0] ?? '') ?? []) {
        if (!own.has(implicit)) outer.add(implicit);
      }
    }
    const typeOf = (n: string) => this.types.get(n) ?? DataType.FLOAT;
    const graph = makeGraph({
      name,
      nodes: [...this.nodes],
      inputs: this.inputs.map((v) => makeValueInfo(v.name, typeOf(v.name), v.shape)),
      outputs: outs.map((v) => makeValueInfo(v.name, typeOf(v.name), this.shapes.get(v.name))),
      initializers: [],
    });
    return { graph, outerNames: [...outer] };
  }

  private isInput(name: string): boolean {
    return this.inputs.some((v) => v.name === name);
  }

  /** A name not used yet in this graph, derived from `base`. */
  unique(base: string): string {
    if (this.reserved.has(base) && !this.produced.has(base)) {
      this.produced.add(base);
      return base;
    }
    let name = base;
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  /** Declares a graph input. */
  input(name: string, shape: Dim[]): Value {
    if (this.used.has(name)) throw new ExportError(`cannot export: the input name "${name}" is used twice`);
    this.used.add(name);
    const value = { name, shape };
    this.inputs.push(value);
    this.shapes.set(name, shape);
    return value;
  }

  /** Adds an initializer and returns its (unique) name. */
  constant(base: string, dims: readonly number[], data: TensorData, dataType?: number): string {
    const name = this.unique(base);
    this.initializers.set(name, makeTensor(name, dims, data, dataType));
    return name;
  }

  /**
   * Adds a Dense or Conv weight: float32 initializer, which int8 precision quantizes per output
   * channel along `channelAxis` (and fp16 stores as half floats).
   */
  weight(base: string, dims: readonly number[], data: Float32Array, channelAxis: number): string {
    const name = this.constant(base, dims, data);
    this.quantizable.set(name, { dims: [...dims], data, axis: channelAxis });
    return name;
  }

  /** An int64 initializer, for shapes, axes and split sizes. */
  int64s(base: string, values: readonly number[]): string {
    return this.constant(
      base,
      [values.length],
      BigInt64Array.from(values, (v) => BigInt(v)),
    );
  }

  /**
   * Adds a node and returns its output values.
   * @param outputs - base names of the outputs (made unique) with their shapes where known.
   * @throws ExportError when the op needs a higher opset than the graph's.
   */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly { name: string; shape?: Dim[]; type?: number }[],
    options: {
      name: string;
      attributes?: Record<string, AttributeValue>;
      minOpset?: number;
      /** Outer-scope names the node's subgraphs read (from `finishBody`). */
      implicitInputs?: readonly string[];
    },
  ): Value[] {
    if (options.minOpset !== undefined && this.opset < options.minOpset) {
      throw new ExportError(
        `cannot export ${options.name}: ${opType} needs opset ${options.minOpset} or higher, the export targets opset ${this.opset}`,
      );
    }
    const values = outputs.map((o) => ({ name: this.unique(o.name), shape: o.shape ?? [] }));
    values.forEach((v, i) => {
      if (v.shape.length > 0) this.shapes.set(v.name, v.shape);
      const type = outputs[i]?.type;
      if (type !== undefined && type !== DataType.FLOAT) this.types.set(v.name, type);
    });
    this.nodes.push(
      makeNode(
        opType,
        inputs,
        values.map((v) => v.name),
        this.unique(options.name),
        options.attributes,
      ),
    );
    if (options.implicitInputs && values[0]) this.implicitInputs.set(values[0].name, options.implicitInputs);
    return values;
  }

  /**
   * When `name` is the output of a Transpose whose permutation undoes `perm`, the value that
   * Transpose read (so the pair cancels); otherwise undefined. The unused Transpose is pruned by `finish`.
   */
  inverseTransposeSource(name: string, perm: readonly number[]): Value | undefined {
    const made = this.transposeOf(name);
    if (!made) return undefined;
    const inner = made.perm;
    if (inner.length !== perm.length || !perm.every((p, i) => inner[p] === i)) return undefined;
    return made.source;
  }

  /** When `name` is the output of a Transpose: its input and permutation. */
  transposeOf(name: string): { source: Value; perm: number[] } | undefined {
    const node = this.nodes.find((n) => n.output?.[0] === name);
    if (node?.opType !== 'Transpose') return undefined;
    const input = node.input?.[0] as string;
    const perm = node.attribute?.find((a) => a.name === 'perm')?.ints?.map(Number) ?? [];
    return { source: { name: input, shape: this.shapeOf(input) }, perm };
  }

  /** How many nodes the graph has so far (for reports: what one layer emitted). */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /** The op types of the nodes added since `count`. */
  opsSince(count: number): string[] {
    return this.nodes.slice(count).map((n) => n.opType as string);
  }

  /** The known shape of a value, or [] when unknown. */
  shapeOf(name: string): Dim[] {
    return this.shapes.get(name) ?? [];
  }

  /** Keeps names for the graph's outputs, so that no intermediate tensor takes them first. */
  reserve(names: readonly string[]): void {
    for (const name of names) {
      if (this.used.has(name)) throw new ExportError(`cannot export: the name "${name}" is used twice`);
      this.used.add(name);
      this.reserved.add(name);
    }
  }

  /**
   * Completes the graph: gives the chosen outputs their names, keeps only the nodes and
   * initializers that the outputs need, and records value_info for every intermediate tensor whose
   * shape is known.
   */
  finish(name: string, outputs: readonly { value: Value; name: string }[]): GraphProto {
    const claimed = new Set<string>();
    const renamed = new Map<string, string>();
    for (const o of outputs) {
      const producer = this.nodes.find((n) => n.output?.includes(o.value.name));
      if (producer && !claimed.has(o.value.name) && o.value.name !== o.name) {
        this.rename(o.value.name, o.name);
        renamed.set(o.value.name, o.name);
      } else if (o.value.name !== o.name) {
        // A graph input or a tensor that is already another output: copy it under the new name.
        const source = renamed.get(o.value.name) ?? o.value.name;
        this.nodes.push(makeNode('Identity', [source], [o.name], this.unique(`${o.name}/Identity`)));
        this.shapes.set(o.name, this.shapeOf(o.value.name));
      }
      claimed.add(o.value.name);
      claimed.add(o.name);
    }
    const needed = new Set(outputs.map((o) => o.name));
    const kept: NodeProto[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i] as NodeProto;
      if (!(node.output ?? []).some((out) => needed.has(out))) continue;
      kept.push(node);
      for (const input of node.input ?? []) needed.add(input);
      for (const input of this.implicitInputs.get(node.output?.[0] ?? '') ?? []) needed.add(input);
    }
    kept.reverse();
    kept.unshift(...this.lowerPrecision(needed));
    const outputNames = new Set(outputs.map((o) => o.name));
    const intermediate = kept
      .flatMap((n) => n.output ?? [])
      .filter((n) => !outputNames.has(n) && this.shapeOf(n).length > 0);
    return makeGraph({
      name,
      nodes: kept,
      inputs: this.inputs.map((v) => makeValueInfo(v.name, DataType.FLOAT, v.shape)),
      outputs: outputs.map((o) =>
        makeValueInfo(o.name, this.types.get(o.name) ?? DataType.FLOAT, this.shapes.get(o.name)),
      ),
      initializers: [...this.initializers.values()].filter(
        (t) => needed.has(t.name as string) || this.lowered.has(t.name as string),
      ),
      valueInfo: intermediate.map((n) =>
        makeValueInfo(n, this.types.get(n) ?? DataType.FLOAT, this.shapeOf(n)),
      ),
    });
  }

  private readonly lowered = new Set<string>();

  /**
   * For fp16 and int8, replaces the needed float initializers by smaller ones and returns the nodes
   * that turn them back into float32 under their original names (placed first in the graph).
   */
  private lowerPrecision(needed: Set<string>): NodeProto[] {
    if (this.precision === 'fp32') return [];
    const nodes: NodeProto[] = [];
    for (const [name, tensor] of [...this.initializers]) {
      if (!needed.has(name) || tensor.dataType !== DataType.FLOAT) continue;
      const weight = this.quantizable.get(name);
      if (this.precision === 'int8') {
        if (!weight) continue;
        const { q, scales } = quantizeInt8(weight.data, weight.dims, weight.axis);
        const qName = this.unique(`${name}_quantized`);
        const sName = this.unique(`${name}_scale`);
        const zName = this.unique(`${name}_zero_point`);
        this.initializers.delete(name);
        this.initializers.set(qName, makeTensor(qName, weight.dims, q));
        this.initializers.set(sName, makeTensor(sName, [scales.length], scales));
        this.initializers.set(zName, makeTensor(zName, [scales.length], new Int8Array(scales.length)));
        for (const n of [qName, sName, zName]) this.lowered.add(n);
        nodes.push(
          makeNode(
            'DequantizeLinear',
            [qName, sName, zName],
            [name],
            this.unique(`${name}/DequantizeLinear`),
            { axis: attr.int(weight.axis) },
          ),
        );
      } else {
        const dims = (tensor.dims ?? []).map(Number);
        const values = new Float32Array(Uint8Array.from(tensor.rawData as Uint8Array).buffer);
        if (values.length < 2) continue;
        const hName = this.unique(`${name}_fp16`);
        this.initializers.delete(name);
        this.initializers.set(hName, makeTensor(hName, dims, toFloat16(values), DataType.FLOAT16));
        this.lowered.add(hName);
        nodes.push(
          makeNode('Cast', [hName], [name], this.unique(`${name}/Cast`), { to: attr.int(DataType.FLOAT) }),
        );
      }
    }
    return nodes;
  }

  private rename(from: string, to: string): void {
    if (this.used.has(to) && !(this.reserved.has(to) && !this.produced.has(to))) {
      throw new ExportError(`cannot export: the output name "${to}" is already used inside the graph`);
    }
    const swap = (names: string[] | null | undefined) => names?.map((n) => (n === from ? to : n)) ?? [];
    // Subgraphs read outer values by name: rename there too.
    const visit = (nodes: NodeProto[]) => {
      for (const node of nodes) {
        node.input = swap(node.input);
        node.output = swap(node.output);
        for (const a of node.attribute ?? []) if (a.g?.node) visit(a.g.node as NodeProto[]);
      }
    };
    visit(this.nodes);
    for (const [key, names] of [...this.implicitInputs]) {
      this.implicitInputs.delete(key);
      this.implicitInputs.set(key === from ? to : key, swap([...names]));
    }
    const shape = this.shapes.get(from);
    if (shape) this.shapes.set(to, shape);
    this.used.add(to);
    this.produced.add(to);
  }
}
