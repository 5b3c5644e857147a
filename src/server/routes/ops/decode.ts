/** POST /v1/models/:name/decode: latent codes z → x_hat. */
import type { Batch } from '../../../runtime/tensor-input.js';
import { imagesOut, imagesResult, inputRows, numberRow, type Operation, object, rows } from './operation.js';

/** Decodes latent codes into x_hat, the mean of p(x|z). */
export const decode: Operation = {
  name: 'decode',
  summary: 'Decode latent codes into x_hat, the mean of p(x|z).',
  rawInput: 'z',
  rawOutputs: ['x_hat'],
  png: true,
  body: (limits) => object({ z: rows(limits, 'latent codes z', numberRow) }, ['z']),
  response: imagesOut,
  async handle(ctx) {
    const [x] = await ctx.served.decode(inputRows(ctx, 'decode', 'z'));
    return imagesResult(ctx, x as Batch, { op: 'decode', input: 'z' });
  },
};
