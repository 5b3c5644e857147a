/** POST /v1/models/:name/sample: n seeded draws from the prior, decoded. */
import { normalArray } from '../../../core/random.js';
import type { Batch } from '../../../runtime/tensor-input.js';
import { imagesOut, imagesResult, type Operation, object, rowsOut, seedSchema } from './operation.js';

/** Draws n codes from N(0, I) with a seed (the same z as `VaeModel.sample`) and decodes them. */
export const sample: Operation = {
  name: 'sample',
  summary: 'Draw n codes from N(0, I) with a seed and decode them.',
  rawOutputs: ['x_hat'],
  png: true,
  body: (limits) =>
    object(
      {
        n: { type: 'integer', minimum: 1, maximum: limits.maxBatch, description: 'how many samples' },
        seed: seedSchema,
      },
      ['n'],
    ),
  response: { ...imagesOut, properties: { ...imagesOut.properties, z: rowsOut } },
  work: (ctx) => {
    const n = (ctx.request.body as { n?: unknown } | undefined)?.n;
    return typeof n === 'number' && n > 0 ? n : 1;
  },
  async handle(ctx) {
    const body = ctx.request.body as { n: number; seed?: number };
    const L = ctx.served.model.latentDim;
    const z = { data: normalArray(body.n * L, body.seed ?? 0), shape: [body.n, L] };
    const [x] = await ctx.served.decode(z);
    return imagesResult(ctx, x as Batch, { op: 'sample', input: 'z' }, z);
  },
};
