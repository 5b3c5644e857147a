/** POST /v1/models/:name/encode: examples x → mu, logvar of q(z|x). */
import type { Batch } from '../../../runtime/tensor-input.js';
import { JsonWriter } from '../../json-writer.js';
import { float32Bytes, MEDIA, SHAPE_HEADER, TENSORS_HEADER } from '../../wire.js';
import {
  assertFinite,
  encoderOf,
  exampleRows,
  inputRows,
  type Operation,
  object,
  rowsOut,
  shapeOut,
} from './operation.js';

/** Encodes examples into mu and logvar of q(z|x). */
export const encode: Operation = {
  name: 'encode',
  summary: 'Encode examples into mu and logvar of q(z|x).',
  rawInput: 'x',
  rawOutputs: ['mu', 'logvar'],
  png: false,
  body: (limits) => object({ x: exampleRows(limits) }, ['x']),
  response: object({ mu: rowsOut, logvar: rowsOut, shape: shapeOut }, ['mu', 'logvar', 'shape']),
  async handle(ctx) {
    const run = encoderOf(ctx, 'encode');
    const [mu, logvar] = (await run(inputRows(ctx, 'encode', 'x'))) as [Batch, Batch];
    assertFinite(mu, 'mu', 'x', 'encode');
    assertFinite(logvar, 'logvar', 'x', 'encode');
    if (ctx.type === MEDIA.octet) {
      return {
        body: float32Bytes([mu, logvar]),
        headers: { [SHAPE_HEADER]: mu.shape.join(','), [TENSORS_HEADER]: 'mu,logvar' },
      };
    }
    return {
      body: new JsonWriter(mu.data.length * 24 + 64)
        .raw('{"mu":')
        .rows(mu.data, mu.shape[0] as number)
        .raw(',"logvar":')
        .rows(logvar.data, logvar.shape[0] as number)
        .raw(`,"shape":${JSON.stringify(mu.shape)}}`)
        .finish(),
    };
  },
};
