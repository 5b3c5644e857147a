/** POST /v1/models/:name/score: importance-sampled −log p(x), the anomaly score. */
import { RequestError } from '../../wire.js';
import {
  encoderOf,
  exampleRows,
  inputRows,
  MAX_SEED,
  type Operation,
  object,
  queryInt,
  seedSchema,
} from './operation.js';

/** Scores examples: −log p(x) in nats by importance sampling (higher is more unusual). */
export const score: Operation = {
  name: 'score',
  summary: 'Anomaly score per example: importance-sampled -log p(x) in nats (higher is more unusual).',
  rawInput: 'x',
  png: false,
  body: (limits) =>
    object(
      {
        x: exampleRows(limits),
        samples: {
          type: 'integer',
          minimum: 1,
          maximum: limits.maxSamples,
          description: 'importance samples per example (1: the negative ELBO estimate)',
        },
        seed: seedSchema,
      },
      ['x'],
    ),
  response: object({ scores: { type: 'array', items: { type: 'number' } }, samples: { type: 'integer' } }, [
    'scores',
    'samples',
  ]),
  async handle(ctx) {
    const { name, model } = ctx.served;
    encoderOf(ctx, 'score');
    if (model.likelihoodKind === undefined) {
      throw new RequestError(
        404,
        `model "${name}" cannot score: its likelihood is unknown (no card.json and no "logits" output); start the server with --likelihood`,
        'name',
      );
    }
    const raw = Buffer.isBuffer(ctx.request.body);
    const body = raw ? {} : (ctx.request.body as { samples?: number; seed?: number });
    const samples = (raw ? queryInt(ctx, 'samples', 1, ctx.options.maxSamples) : body.samples) ?? 1;
    const seed = (raw ? queryInt(ctx, 'seed', 0, MAX_SEED) : body.seed) ?? 0;
    const x = inputRows(ctx, 'score', 'x');
    const rows = x.shape[0] as number;
    if (rows * samples > ctx.options.maxScoreDecodes) {
      throw new RequestError(
        400,
        `score: ${rows} rows × ${samples} samples = ${rows * samples} decodes; one request may ask for at most ${ctx.options.maxScoreDecodes} (send fewer rows or samples)`,
        'samples',
      );
    }
    const scores = await model.score(x, { samples, seed });
    return { body: `{"scores":[${scores.join(',')}],"samples":${samples}}` };
  },
};
