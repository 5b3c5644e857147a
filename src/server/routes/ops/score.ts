/**
 * POST /v1/models/:name/score: anomaly scores per example (the model's default, `dose`, when it is
 * calibrated; else −log p(x)), with each score's percentile among the model's own held-out data and
 * a verdict at a false-alarm rate, and the statistics the scores are made of.
 */
import { SCORE_NAMES, type ScoreName } from '../../../core/anomaly-card.js';
import { JsonWriter } from '../../json-writer.js';
import { RequestError } from '../../wire.js';
import {
  encoderOf,
  exampleRows,
  inputRows,
  MAX_SEED,
  type Operation,
  object,
  queryInt,
  requestRows,
  seedSchema,
} from './operation.js';

const numbers = { type: 'array', items: { type: 'number' } };

/** Scores examples: higher is more unusual; percentiles and verdicts from the model's calibration. */
export const score: Operation = {
  name: 'score',
  summary:
    'Anomaly score per example (higher is more unusual): the model\'s default ("dose" when it is calibrated, else "nll", -log p(x) in nats), its percentile among the model\'s held-out data and a verdict at a false-alarm rate.',
  rawInput: 'x',
  png: false,
  body: (limits) =>
    object(
      {
        x: exampleRows(limits),
        score: {
          type: 'string',
          enum: [...SCORE_NAMES],
          description: 'which score: dose (default when calibrated), nll, neg-elbo, bits-per-dim, complexity',
        },
        samples: {
          type: 'integer',
          minimum: 1,
          maximum: limits.maxSamples,
          description:
            "draws of q(z|x) per example (default: as many as the model's calibration used, 16); percentiles need that number",
        },
        seed: seedSchema,
        falseAlarmRate: {
          type: 'number',
          exclusiveMinimum: 0,
          exclusiveMaximum: 0.5,
          description: "share of the model's held-out data a verdict flags (default 0.01)",
        },
      },
      ['x'],
    ),
  response: object(
    {
      score: { type: 'string', enum: [...SCORE_NAMES] },
      scores: numbers,
      samples: { type: 'integer' },
      percentiles: { ...numbers, description: "each score's percentile among the model's held-out data" },
      anomalous: { type: 'array', items: { type: 'boolean' } },
      threshold: { type: 'number' },
      falseAlarmRate: { type: 'number' },
      statistics: object(
        { nll: numbers, rate: numbers, distortion: numbers, misfit: numbers, bitsPerDim: numbers },
        ['nll', 'rate', 'distortion', 'misfit'],
      ),
    },
    ['score', 'scores', 'samples', 'statistics'],
  ),
  // Each row costs its draws of q(z|x) and one encoder row.
  work: (ctx) => {
    const raw = Buffer.isBuffer(ctx.request.body);
    const asked = raw
      ? Number(ctx.request.query.samples)
      : (ctx.request.body as { samples?: unknown } | undefined)?.samples;
    const samples = typeof asked === 'number' && Number.isInteger(asked) && asked > 0 ? asked : 16;
    return (
      requestRows(ctx.request, 'x', ctx.options.maxBatch) * (Math.min(samples, ctx.options.maxSamples) + 1)
    );
  },
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
    const body = raw
      ? {}
      : (ctx.request.body as { samples?: number; seed?: number; score?: ScoreName; falseAlarmRate?: number });
    const calibration = model.card?.anomaly;
    const samples =
      (raw ? queryInt(ctx, 'samples', 1, ctx.options.maxSamples) : body.samples) ??
      calibration?.samples ??
      16;
    const seed = (raw ? queryInt(ctx, 'seed', 0, MAX_SEED) : body.seed) ?? undefined;
    const which = raw ? (ctx.request.query.score as ScoreName | undefined) : body.score;
    if (which !== undefined && !SCORE_NAMES.includes(which)) {
      throw new RequestError(
        400,
        `"score" must be one of ${SCORE_NAMES.join(', ')}, got "${which}"`,
        'score',
      );
    }
    const x = inputRows(ctx, 'score', 'x');
    const rows = x.shape[0] as number;
    if (rows * samples > ctx.options.maxScoreDecodes) {
      throw new RequestError(
        400,
        `score: ${rows} rows × ${samples} samples = ${rows * samples} decodes; one request may ask for at most ${ctx.options.maxScoreDecodes} (send fewer rows or samples)`,
        'samples',
      );
    }
    let result: Awaited<ReturnType<typeof model.score>>;
    try {
      result = await model.score(x, {
        samples,
        ...(seed === undefined ? {} : { seed }),
        ...(which ? { score: which } : {}),
        ...(body.falseAlarmRate === undefined ? {} : { falseAlarmRate: body.falseAlarmRate }),
      });
    } catch (error) {
      // What the model cannot do (dose without calibration, complexity for a table, samples other
      // than the reference's) is the client's to change.
      if (error instanceof RangeError || /^score: /.test((error as Error).message))
        throw new RequestError(400, (error as Error).message, which ? 'score' : 'samples');
      throw error;
    }
    // Scores and statistics at full precision (17 digits), and never NaN: JSON has no such number.
    const bad = result.values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new RequestError(
        422,
        `score: row ${bad} cannot be scored: the model's statistics of it are not finite numbers (its values are far outside anything the model represents)`,
        `x[${bad}]`,
      );
    }
    const exact = (values: Float64Array) =>
      `[${Array.from(values, (v) => (Number.isFinite(v) ? String(v) : 'null')).join(',')}]`;
    const json = new JsonWriter(rows * 120 + 256)
      .raw(`{"score":${JSON.stringify(result.score)},"scores":${exact(result.values)}`)
      .raw(`,"samples":${samples}`);
    if (result.percentiles) {
      json
        .raw(`,"percentiles":${exact(result.percentiles)}`)
        .raw(`,"anomalous":${JSON.stringify(result.anomalous)}`)
        .raw(`,"threshold":${JSON.stringify(result.threshold)},"falseAlarmRate":${result.falseAlarmRate}`);
    }
    json.raw(',"statistics":{');
    const stats = Object.entries(result.statistics) as [string, Float64Array][];
    stats.forEach(([key, values], i) => {
      json.raw(`${i > 0 ? ',' : ''}"${key}":${exact(values)}`);
    });
    return { body: json.raw('}}').finish() };
  },
};
