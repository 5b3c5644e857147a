import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  attr,
  DataType,
  decodeModel,
  ExportError,
  encodeModel,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
  onnx,
  SUPPORTED_OPSETS,
} from '../src/export/index.js';

function sampleModel() {
  const weights = makeTensor('w', [3, 2], Float32Array.from([1, -2, 3.5, 0, 1e-8, -7]));
  const shape = makeTensor('shape', [2], BigInt64Array.from([0n, -1n]));
  const graph = makeGraph({
    name: 'g',
    nodes: [
      makeNode('MatMul', ['x', 'w'], ['y'], 'n0'),
      makeNode('LeakyRelu', ['y'], ['h'], 'n1', { alpha: attr.float(0.25) }),
      makeNode('Reshape', ['h', 'shape'], ['out'], 'n2'),
      makeNode('Split', ['out'], ['a', 'b'], 'n3', {
        split: attr.ints([1, 1]),
        axis: attr.int(1),
        mode: attr.string('m'),
      }),
    ],
    inputs: [makeValueInfo('x', DataType.FLOAT, ['N', 3])],
    outputs: [makeValueInfo('a', DataType.FLOAT, ['N', 1]), makeValueInfo('b', DataType.FLOAT, [null, 1])],
    initializers: [weights, shape],
    valueInfo: [makeValueInfo('y', DataType.FLOAT, ['N', 2])],
  });
  return makeModel({
    graph,
    opset: 13,
    producerName: 'test',
    producerVersion: '0',
    metadata: { z: '1', a: '2' },
  });
}

const plain = (m: ReturnType<typeof decodeModel>) =>
  onnx.ModelProto.toObject(m, { longs: String, bytes: Array, defaults: false });

describe('ONNX graph builder', () => {
  test('round trip: encode, decode, deep-compare; re-encoding gives the same bytes', () => {
    const model = sampleModel();
    const bytes = encodeModel(model);
    const decoded = decodeModel(bytes);
    const again = decodeModel(encodeModel(onnx.ModelProto.fromObject(plain(decoded))));
    assert.deepEqual(plain(again), plain(decoded));
    assert.deepEqual(encodeModel(onnx.ModelProto.fromObject(plain(decoded))), bytes);
    const obj = plain(decoded) as {
      irVersion: string;
      graph: {
        node: { opType: string; attribute?: { name: string }[] }[];
        initializer: { rawData: number[]; dims: string[] }[];
        input: unknown[];
      };
      metadataProps: { key: string }[];
      opsetImport: { version: string }[];
    };
    assert.equal(obj.irVersion, '7');
    assert.equal(obj.opsetImport[0]?.version, '13');
    assert.deepEqual(
      obj.graph.node.map((n) => n.opType),
      ['MatMul', 'LeakyRelu', 'Reshape', 'Split'],
    );
    assert.deepEqual(obj.graph.initializer[0]?.dims, ['3', '2']);
    assert.deepEqual(
      [...new Float32Array(Uint8Array.from(obj.graph.initializer[0]?.rawData ?? []).buffer)],
      [...Float32Array.from([1, -2, 3.5, 0, 1e-8, -7])],
    );
    assert.deepEqual(
      obj.metadataProps.map((p) => p.key),
      ['a', 'z'],
    );
  });

  test('attributes are written sorted by name whatever the order given', () => {
    const node = makeNode('Op', [], [], 'n', {
      zeta: attr.int(1),
      alpha: attr.float(2),
      mid: attr.ints([3]),
    });
    assert.deepEqual(
      node.attribute?.map((a) => a.name),
      ['alpha', 'mid', 'zeta'],
    );
  });

  test('the same input gives the same bytes', () => {
    assert.deepEqual(encodeModel(sampleModel()), encodeModel(sampleModel()));
  });

  test('a tensor whose element count disagrees with its dims is refused before writing', () => {
    assert.throws(
      () => makeTensor('w', [2, 3], new Float32Array(5)),
      (e: Error) =>
        e instanceof ExportError && /tensor "w": dims \[2, 3\] need 6 elements, got 5/.test(e.message),
    );
  });

  test('the opset table gives IR versions and refuses unknown opsets', () => {
    assert.deepEqual(SUPPORTED_OPSETS, [13, 14, 15, 16, 17, 18, 19, 20, 21]);
    const graph = makeGraph({ name: 'g', nodes: [], inputs: [], outputs: [], initializers: [] });
    const ir = (opset: number) =>
      makeModel({ graph, opset, producerName: 'p', producerVersion: '0' }).irVersion;
    assert.deepEqual([13, 15, 17, 19, 21].map(ir), [7, 8, 8, 9, 10]);
    assert.throws(() => ir(12), /opset 12 is not supported; expected one of 13, 14/);
  });
});
