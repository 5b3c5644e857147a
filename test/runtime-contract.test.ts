import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { type ModelCard, ModelDirError } from '../src/core/model-dir.js';
import {
  DataType,
  encodeModel,
  makeGraph,
  makeModel,
  makeNode,
  makeValueInfo,
} from '../src/export/onnx-builder.js';
import {
  checkEncoderFits,
  decoderContract,
  encoderContract,
  resolveExampleShape,
  type SessionMetadata,
} from '../src/runtime/io-contract.js';
import { warmUpModelBytes } from '../src/runtime/warm-up-model.js';

const tensor = (name: string, shape: (number | string)[]) => ({ name, isTensor: true as const, shape });

function meta(
  inputs: [string, (number | string)[]][],
  outputs: [string, (number | string)[]][],
): SessionMetadata {
  return {
    inputNames: inputs.map(([n]) => n),
    outputNames: outputs.map(([n]) => n),
    inputMetadata: inputs.map(([n, s]) => tensor(n, s)),
    outputMetadata: outputs.map(([n, s]) => tensor(n, s)),
  };
}

const decoderMeta = meta(
  [['z', ['N', 20]]],
  [
    ['x_hat', ['N', 28, 28, 1]],
    ['logits', ['N', 28, 28, 1]],
  ],
);
const encoderMeta = meta(
  [['x', ['N', 28, 28, 1]]],
  [
    ['mu', ['N', 20]],
    ['logvar', ['N', 20]],
  ],
);
const card = { latentDim: 20, inputShape: [28, 28, 1] } as ModelCard;

describe('the I/O contract, from session metadata alone', () => {
  test('a vae-onnx decoder and encoder: names, latent size, example shape', () => {
    const dec = decoderContract(decoderMeta, 'm/decoder.onnx');
    assert.deepEqual(dec, {
      input: 'z',
      outputs: ['x_hat'],
      logits: 'logits',
      latentDim: 20,
      exampleShape: [28, 28, 1],
    });
    const enc = encoderContract(encoderMeta, 'm/encoder.onnx');
    assert.deepEqual(enc, {
      input: 'x',
      outputs: ['mu', 'logvar'],
      latentDim: 20,
      exampleShape: [28, 28, 1],
    });
    checkEncoderFits(enc, dec, 'm');
    assert.deepEqual(resolveExampleShape(dec, enc, card, 'm'), [28, 28, 1]);
  });

  test('a foreign decoder: its only input and first output, the shape from the card when the file leaves it open', () => {
    const dec = decoderContract(meta([['latent', [1, 8]]], [['out', ['N', 'D']]]), 'f/decoder.onnx');
    assert.equal(dec.input, 'latent');
    assert.deepEqual(dec.outputs, ['out']);
    assert.equal(dec.logits, undefined);
    assert.equal(dec.exampleShape, undefined);
    assert.deepEqual(resolveExampleShape(dec, undefined, { ...card, latentDim: 8 }, 'f'), [28, 28, 1]);
    assert.throws(
      () => resolveExampleShape(dec, undefined, undefined, 'f'),
      /cannot load f\/decoder\.onnx: the example shape is not fixed in the ONNX files and there is no card\.json/,
    );
  });

  const refusals: [string, () => unknown, RegExp][] = [
    [
      'two inputs, neither named z',
      () =>
        decoderContract(
          meta(
            [
              ['a', ['N', 2]],
              ['b', ['N', 2]],
            ],
            [['y', ['N', 4]]],
          ),
          'd/decoder.onnx',
        ),
      /cannot load d\/decoder\.onnx: it must have an input named "z" or exactly one input, got \[a, b\]/,
    ],
    [
      'a symbolic latent width',
      () => decoderContract(meta([['z', ['N', 'L']]], [['x_hat', ['N', 4]]]), 'd/decoder.onnx'),
      /input "z" must have shape \[N, L\] with a fixed L, got \[N, L\]/,
    ],
    [
      'an encoder without logvar',
      () => encoderContract(meta([['x', ['N', 4]]], [['mu', ['N', 2]]]), 'd/encoder.onnx'),
      /cannot load d\/encoder\.onnx: it must have outputs "mu" and "logvar", got \[mu\]/,
    ],
    [
      'an encoder from a model with another latent size',
      () =>
        checkEncoderFits(
          { ...encoderContract(encoderMeta, 'd/encoder.onnx'), latentDim: 19 },
          decoderContract(decoderMeta, 'd/decoder.onnx'),
          'd',
        ),
      /cannot load d\/encoder\.onnx: its "mu" has 19 latent values but d\/decoder\.onnx takes 20; the two files come from different models: re-export it with: vae export d/,
    ],
    [
      'a card whose latentDim disagrees with the decoder',
      () =>
        resolveExampleShape(decoderContract(decoderMeta, 'x'), undefined, { ...card, latentDim: 19 }, 'd'),
      /cannot load d\/card\.json: its latentDim 19 disagrees with d\/decoder\.onnx, whose input "z" takes 20 values/,
    ],
    [
      'a card whose input shape disagrees with the graphs',
      () =>
        resolveExampleShape(
          decoderContract(decoderMeta, 'x'),
          undefined,
          { ...card, inputShape: [32, 32, 3] },
          'd',
        ),
      /cannot load d\/card\.json: its inputShape \[32,32,3\] disagrees with the ONNX files' \[28,28,1\]/,
    ],
  ];
  for (const [name, f, message] of refusals) {
    test(`refused, naming the file: ${name}`, () => {
      assert.throws(f, (error: unknown) => error instanceof ModelDirError && message.test(error.message));
    });
  }
});

describe('the warm-up model', () => {
  test("its bytes are the project's graph builder's, and onnxruntime runs them", async () => {
    const built = encodeModel(
      makeModel({
        graph: makeGraph({
          name: 'warm-up',
          nodes: [makeNode('Identity', ['x'], ['y'], 'identity')],
          inputs: [makeValueInfo('x', DataType.FLOAT, [1])],
          outputs: [makeValueInfo('y', DataType.FLOAT, [1])],
          initializers: [],
        }),
        opset: 13,
        producerName: 'vae-onnx',
        producerVersion: 'warm-up',
      }),
    );
    assert.deepEqual(warmUpModelBytes(), new Uint8Array(built));
    const session = await ort.InferenceSession.create(warmUpModelBytes());
    try {
      const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([7]), [1]) });
      assert.deepEqual(Array.from(out.y?.data as Float32Array), [7]);
    } finally {
      await session.release();
    }
  });
});
