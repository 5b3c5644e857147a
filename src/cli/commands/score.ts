import { SCORE_NAMES, type ScoreName } from '../../core/anomaly-card.js';
import type { AnomalyResult, VaeModel } from '../../runtime/node.js';
import type { Batch } from '../../runtime/tensor-input.js';
import { type Command, choiceFlag, intFlag, numberFlag, onePositional, type ParsedArgs } from '../args.js';
import {
  csvText,
  DATA_FLAGS,
  LIKELIHOOD_FLAG,
  loadExamples,
  loadModel,
  MODEL_FLAGS,
  pathFlag,
  writeCsv,
  writeGrid,
} from '../model-data.js';
import { note, out } from '../output.js';
import { progressBar } from '../progress.js';

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** The flags that choose a score and its verdicts (score and ood). */
export const SCORE_FLAGS = Object.freeze({
  score: {
    type: 'string',
    value: 'NAME',
    description: `${SCORE_NAMES.join(', ')} (default: the model's, dose when it is calibrated, else nll)`,
  },
  samples: {
    type: 'string',
    value: 'K',
    description: "draws of q(z|x) per example (default: the model's calibration's, 16)",
  },
  'false-alarm-rate': {
    type: 'string',
    value: 'R',
    description: "share of the model's held-out data a verdict flags (default: the card's, 0.01)",
  },
} as const);

/** What the score flags ask of VaeModel.score. */
export function scoreOptions(cmd: string, args: ParsedArgs) {
  const score =
    args.flags.score === undefined ? undefined : choiceFlag<ScoreName>(cmd, args, 'score', [...SCORE_NAMES]);
  const samples = args.flags.samples === undefined ? undefined : intFlag(cmd, args, 'samples', 1, 100_000);
  const rate =
    args.flags['false-alarm-rate'] === undefined ? undefined : numberFlag(cmd, args, 'false-alarm-rate');
  if (rate !== undefined && !(rate > 0 && rate < 0.5)) {
    throw new RangeError(`vae ${cmd}: --false-alarm-rate must be between 0 and 0.5, got ${rate}`);
  }
  return {
    ...(score ? { score } : {}),
    ...(samples ? { samples } : {}),
    ...(rate ? { falseAlarmRate: rate } : {}),
  };
}

/** Scores a batch with a progress bar on stderr (none with `quiet`). */
export async function scoreWithProgress(
  model: VaeModel,
  batch: Batch,
  options: Parameters<VaeModel['score']>[1],
  label: string,
  quiet: boolean,
): Promise<AnomalyResult> {
  const bar = quiet ? undefined : progressBar();
  try {
    return await model.score(batch, {
      ...options,
      onProgress: (done, total) => bar?.update(done / total, `${label}: ${done}/${total} examples`),
    });
  } finally {
    bar?.done();
  }
}

/** The per-example columns of a result: the score, its percentile and verdict, and the statistics. */
export function resultColumns(r: AnomalyResult): { header: string[]; row(i: number): (number | string)[] } {
  const stats = Object.entries(r.statistics) as [string, Float64Array][];
  const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return {
    header: [r.score, ...(r.percentiles ? ['percentile', 'anomalous'] : []), ...stats.map(([k]) => snake(k))],
    row: (i) => [
      r.values[i] as number,
      ...(r.percentiles ? [r.percentiles[i] as number, r.anomalous?.[i] ? 1 : 0] : []),
      ...stats.map(([, v]) => v[i] as number),
    ],
  };
}

/** `vae score DIR`: each example's anomaly score, with its percentile and verdict when the model is calibrated. */
export const scoreCommand: Command = {
  name: 'score',
  usage:
    'DIR [--dataset NAME] [--split test] [--limit N --seed S] [--score NAME] [--false-alarm-rate R] [--out FILE] [--top 16] [--json]',
  flags: {
    ...DATA_FLAGS,
    ...SCORE_FLAGS,
    out: {
      type: 'string',
      value: 'FILE',
      description: 'CSV: index, file, label, the score, percentile, anomalous, and the statistics',
      default: 'DIR/scores.csv',
    },
    top: {
      type: 'string',
      value: 'N',
      description: 'how many of the highest scores to list and draw',
      default: '16',
    },
    png: {
      type: 'string',
      value: 'FILE',
      description: 'PNG of the highest-scoring examples',
      default: 'DIR/anomalies.png',
    },
    json: { type: 'boolean', description: 'print one JSON object: summary and the top examples' },
    ...MODEL_FLAGS,
    ...LIKELIHOOD_FLAG,
  },
  details: [
    "Higher is more unusual. The default score, dose, measures how atypical the model's own statistics of",
    'an example (its likelihood, 8-bit likelihood, rate and misfit) are among its training data; nll is',
    '−log p(x) in nats, which ranks simple images (a digit under a clothing model) as normal. With the',
    "model's calibration (card.json, from training or vae calibrate) each example gets its percentile among",
    "the model's held-out data and a verdict (anomalous: past the threshold that flags --false-alarm-rate",
    'of them). Seeded: the same command gives the same scores on every runtime. vae ood measures how well',
    'each score separates two datasets.',
  ].join('\n'),
  async run(args: ParsedArgs) {
    const dir = onePositional('score', args, 'model directory');
    const top = intFlag('score', args, 'top', 0, 10_000);
    const csv = pathFlag('score', args, 'out', dir);
    const png = pathFlag('score', args, 'png', dir);
    const options = scoreOptions('score', args);
    const model = await loadModel('score', args, dir);
    try {
      const ex = await loadExamples('score', args, model);
      const n = ex.batch.shape[0] as number;
      const size = ex.batch.data.length / n;
      const r = await scoreWithProgress(model, ex.batch, options, 'scoring', args.flags.json === true);
      const columns = resultColumns(r);
      await writeCsv(
        csv,
        ['index', ...(ex.ids ? ['file'] : []), ...(ex.labels ? ['label'] : []), ...columns.header],
        Array.from({ length: n }, (_, i) => [
          ex.indices[i] as number,
          ...(ex.ids ? [csvText(ex.ids[i] as string)] : []),
          ...(ex.labels ? [ex.labels[i] as number] : []),
          ...columns.row(i),
        ]),
      );
      const scores = r.values;
      const order = Array.from({ length: n }, (_, i) => i).sort(
        (a, b) => (scores[b] as number) - (scores[a] as number),
      );
      const highest = order.slice(0, top);
      const sorted = Float64Array.from(scores).sort();
      const flagged = r.anomalous?.filter(Boolean).length;
      const summary = {
        model: dir,
        dataset: ex.name,
        split: ex.split,
        examples: n,
        score: r.score,
        samples: r.samples,
        mean: scores.reduce((a, b) => a + b, 0) / n,
        p50: quantile(sorted, 0.5),
        p90: quantile(sorted, 0.9),
        p99: quantile(sorted, 0.99),
        max: sorted[n - 1] as number,
        ...(r.threshold === undefined
          ? {}
          : { threshold: r.threshold, falseAlarmRate: r.falseAlarmRate, flagged }),
        top: highest.map((i) => ({
          index: ex.indices[i] as number,
          ...(ex.ids ? { file: ex.ids[i] } : {}),
          ...(ex.labels ? { label: ex.labels[i] } : {}),
          score: scores[i] as number,
          ...(r.percentiles ? { percentile: r.percentiles[i] as number } : {}),
        })),
      };
      if (highest.length > 0 && model.inputShape.length === 3) {
        const picked = new Float32Array(highest.length * size);
        highest.forEach((i, k) => {
          picked.set(ex.batch.data.subarray(i * size, (i + 1) * size), k * size);
        });
        await writeGrid(png, { data: picked, shape: [highest.length, ...model.inputShape] });
      }
      if (args.flags.json) {
        out(JSON.stringify(summary));
      } else {
        out(
          `${ex.name} ${ex.split}, ${n} examples, score ${r.score}, K=${r.samples} (higher is more unusual):`,
        );
        out(
          `  mean ${summary.mean.toFixed(2)}  p50 ${summary.p50.toFixed(2)}  p90 ${summary.p90.toFixed(2)}  p99 ${summary.p99.toFixed(2)}  max ${summary.max.toFixed(2)}`,
        );
        if (r.threshold !== undefined) {
          out(
            `  ${flagged} of ${n} past the threshold ${r.threshold.toFixed(3)} (it flags ${((r.falseAlarmRate ?? 0) * 100).toFixed(1)} % of the model's held-out data)`,
          );
        } else {
          note(
            `no percentiles or verdicts: ${model.card?.anomaly ? `the calibration is for K=${model.card.anomaly.samples}` : 'the model has no calibration (vae calibrate DIR --dataset NAME)'}`,
          );
        }
        for (const t of summary.top) {
          out(
            `  #${t.index}${t.file === undefined ? '' : ` ${t.file}`}${t.label === undefined ? '' : ` (label ${t.label})`}: ${t.score.toFixed(2)}${t.percentile === undefined ? '' : ` (percentile ${t.percentile.toFixed(1)})`}`,
          );
        }
        note(`wrote ${csv}${highest.length > 0 && model.inputShape.length === 3 ? ` and ${png}` : ''}`);
      }
    } finally {
      await model.dispose();
    }
    return 0;
  },
};
