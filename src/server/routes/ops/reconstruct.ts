/** POST /v1/models/:name/reconstruct: examples x → mu → x_hat. */
import type { Batch } from '../../../runtime/tensor-input.js';
import {
  encoderOf,
  exampleRows,
  imagesOut,
  imagesResult,
  inputRows,
  type Operation,
  object,
  requestRows,
} from './operation.js';

/** Encodes examples and decodes their mean codes. */
export const reconstruct: Operation = {
  name: 'reconstruct',
  summary: 'Encode examples and decode their mean codes.',
  rawInput: 'x',
  rawOutputs: ['x_hat'],
  png: true,
  body: (limits) => object({ x: exampleRows(limits) }, ['x']),
  response: imagesOut,
  work: (ctx) => 2 * requestRows(ctx.request, 'x', ctx.options.maxBatch),
  async handle(ctx) {
    const run = encoderOf(ctx, 'reconstruct');
    const [mu] = await run(inputRows(ctx, 'reconstruct', 'x'));
    const [x] = await ctx.served.decode(mu as Batch);
    return imagesResult(ctx, x as Batch, { op: 'reconstruct', input: 'x' });
  },
};
