import { type Command, intFlag, onePositional, type ParsedArgs } from '../args.js';
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

const CHUNK = 100;

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** `vae score DIR`: the anomaly score of each example, −log p(x) by importance sampling. */
export const scoreCommand: Command = {
  name: 'score',
  usage: 'DIR [--dataset NAME] [--split test] [--limit N] [--samples 64] [--out FILE] [--top 16] [--json]',
  flags: {
    ...DATA_FLAGS,
    samples: { type: 'string', value: 'K', description: 'importance samples per example', default: '64' },
    seed: { type: 'string', value: 'S', description: 'seed of the samples', default: '0' },
    out: {
      type: 'string',
      value: 'FILE',
      description: 'CSV of index, label, score',
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
  details:
    'Scores are in nats; higher is more unusual under the model. With --samples 1 the score is a\nsingle-sample negative ELBO; more samples tighten the bound. Seeded: the same command gives the\nsame scores on every runtime.',
  async run(args: ParsedArgs) {
    const dir = onePositional('score', args, 'model directory');
    const samples = intFlag('score', args, 'samples', 1, 100_000);
    const seed = intFlag('score', args, 'seed', 0);
    const top = intFlag('score', args, 'top', 0, 10_000);
    const csv = pathFlag('score', args, 'out', dir);
    const png = pathFlag('score', args, 'png', dir);
    const model = await loadModel('score', args, dir);
    try {
      const ex = await loadExamples('score', args, model);
      const n = ex.batch.shape[0] as number;
      const size = ex.batch.data.length / n;
      const scores = new Float64Array(n);
      const bar = args.flags.json ? undefined : progressBar();
      try {
        for (let start = 0; start < n; start += CHUNK) {
          const count = Math.min(CHUNK, n - start);
          const chunk = ex.batch.data.subarray(start * size, (start + count) * size);
          // Each chunk draws its noise from seed + its first index: an example's score is then the same
          // whatever --limit is.
          const part = await model.score(
            { data: chunk, shape: [count, ...model.inputShape] },
            { samples, seed: seed + start },
          );
          scores.set(part, start);
          bar?.update((start + count) / n, `scoring ${start + count}/${n} examples, K=${samples}`);
        }
      } finally {
        bar?.done();
      }
      const label = (i: number) => (ex.labels ? (ex.labels[i] as number) : undefined);
      await writeCsv(
        csv,
        ['index', ...(ex.ids ? ['file'] : []), ...(ex.labels ? ['label'] : []), 'score'],
        Array.from(scores, (s, i) => [
          i,
          ...(ex.ids ? [csvText(ex.ids[i] as string)] : []),
          ...(ex.labels ? [label(i) as number] : []),
          s,
        ]),
      );
      const order = Array.from({ length: n }, (_, i) => i).sort(
        (a, b) => (scores[b] as number) - (scores[a] as number),
      );
      const highest = order.slice(0, top);
      const sorted = Float64Array.from(scores).sort();
      const mean = scores.reduce((a, b) => a + b, 0) / n;
      const summary = {
        model: dir,
        dataset: ex.name,
        split: ex.split,
        examples: n,
        samples,
        mean,
        p50: quantile(sorted, 0.5),
        p90: quantile(sorted, 0.9),
        p99: quantile(sorted, 0.99),
        max: sorted[n - 1] as number,
        top: highest.map((i) => ({
          index: i,
          ...(ex.ids ? { file: ex.ids[i] } : {}),
          ...(ex.labels ? { label: label(i) } : {}),
          score: scores[i] as number,
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
        out(`${ex.name} ${ex.split}, ${n} examples, K=${samples} (nats; higher is more unusual):`);
        out(
          `  mean ${mean.toFixed(2)}  p50 ${summary.p50.toFixed(2)}  p90 ${summary.p90.toFixed(2)}  p99 ${summary.p99.toFixed(2)}  max ${summary.max.toFixed(2)}`,
        );
        for (const t of summary.top) {
          out(
            `  #${t.index}${t.file === undefined ? '' : ` ${t.file}`}${t.label === undefined ? '' : ` (label ${t.label})`}: ${t.score.toFixed(2)}`,
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
