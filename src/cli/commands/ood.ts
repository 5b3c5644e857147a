import { rocCurve } from '../../core/detection-metrics.js';
import { writeFileAtomic } from '../../node/atomic-write.js';
import { Raster, type Rgb } from '../../node/raster-plot.js';
import { type OodPair, type OodRow, oodReport, PNG_SIZE } from '../../runtime/anomaly/ood-report.js';
import {
  type Command,
  choiceFlag,
  imageSizeFlag,
  intFlag,
  onePositional,
  type ParsedArgs,
  stringFlag,
  UsageError,
} from '../args.js';
import {
  csvText,
  type Examples,
  examplesOf,
  LIKELIHOOD_FLAG,
  loadModel,
  MODEL_FLAGS,
  pathFlag,
  writeCsv,
} from '../model-data.js';
import { note, out } from '../output.js';
import { progressBar } from '../progress.js';
import { SCORE_FLAGS, scoreOptions } from './score.js';

const COLORS: readonly Rgb[] = [
  [200, 40, 40],
  [40, 90, 200],
  [30, 150, 70],
  [150, 60, 170],
  [220, 130, 20],
  [90, 90, 90],
];

/** The two histograms of the default score and every score's ROC curve, side by side. */
function plot(
  pairs: readonly OodPair[],
  rows: readonly OodRow[],
  names: { in: string; ood: string },
): Uint8Array {
  const r = new Raster(1120, 440);
  const ink: Rgb = [30, 30, 30];
  const grid: Rgb = [220, 220, 220];
  // Histograms of the first (default) score, 40 bins over the 0.5–99.5 % range of both sets.
  const main = pairs[0] as OodPair;
  const all = Float64Array.from([...main.in, ...main.ood].filter(Number.isFinite)).sort();
  const lo = all[Math.floor(0.005 * (all.length - 1))] as number;
  const hi = all[Math.ceil(0.995 * (all.length - 1))] as number;
  const bins = 40;
  const count = (xs: Float64Array) => {
    const c = new Array<number>(bins).fill(0);
    for (const x of xs) {
      const b = Math.min(bins - 1, Math.max(0, Math.floor(((x - lo) / (hi - lo || 1)) * bins)));
      c[b] = (c[b] as number) + 1 / xs.length;
    }
    return c;
  };
  const cin = count(main.in);
  const cood = count(main.ood);
  const top = Math.max(...cin, ...cood) || 1;
  const [hx, hy, hw, hh] = [40, 50, 420, 320];
  r.rect(hx, hy + hh, hw, 1, ink);
  r.rect(hx, hy, 1, hh, ink);
  for (const [counts, color] of [
    [cin, [40, 90, 200]],
    [cood, [220, 60, 40]],
  ] as const) {
    counts.forEach((c, b) => {
      r.rect(hx + (b * hw) / bins, hy + hh - (c / top) * hh, hw / bins - 1, (c / top) * hh, color, 0.55);
    });
  }
  const threshold = rows[0]?.threshold;
  if (threshold !== undefined && threshold >= lo && threshold <= hi) {
    const tx = hx + ((threshold - lo) / (hi - lo || 1)) * hw;
    r.line(tx, hy, tx, hy + hh, ink, 1, 4);
  }
  r.text(hx, 12, `${main.name} score`, ink, 3);
  r.text(hx, 34, `IN: ${names.in}`, [40, 90, 200]);
  r.text(hx + 220, 34, `OOD: ${names.ood}`, [220, 60, 40]);
  r.text(hx, hy + hh + 8, lo.toPrecision(4), ink);
  const hiText = hi.toPrecision(4);
  r.text(hx + hw - 8 * hiText.length, hy + hh + 8, hiText, ink);
  if (threshold !== undefined)
    r.text(hx, hy + hh + 24, '- - THRESHOLD AT THE CALIBRATED FALSE-ALARM RATE', ink);
  // ROC curves.
  const [rx, ry, rw, rh] = [540, 50, 320, 320];
  for (let k = 1; k < 10; k++) {
    r.line(rx + (k * rw) / 10, ry, rx + (k * rw) / 10, ry + rh, grid);
    r.line(rx, ry + (k * rh) / 10, rx + rw, ry + (k * rh) / 10, grid);
  }
  r.rect(rx, ry + rh, rw, 1, ink);
  r.rect(rx, ry, 1, rh, ink);
  r.line(rx, ry + rh, rx + rw, ry, [160, 160, 160], 1, 3);
  pairs.forEach((p, i) => {
    const { fpr, tpr } = rocCurve(p.in, p.ood);
    const color = COLORS[i % COLORS.length] as Rgb;
    for (let k = 1; k < fpr.length; k++) {
      r.line(
        rx + (fpr[k - 1] as number) * rw,
        ry + rh - (tpr[k - 1] as number) * rh,
        rx + (fpr[k] as number) * rw,
        ry + rh - (tpr[k] as number) * rh,
        color,
        i === 0 ? 3 : 1,
      );
    }
    const row = rows.find((x) => x.name === p.name);
    r.text(rx + rw + 10, ry + 10 + 18 * i, `${p.name} ${row ? row.auroc.toFixed(3) : ''}`, color);
  });
  r.text(rx, 12, 'ROC (AUROC)', ink, 3);
  r.text(rx, ry + rh + 8, 'FALSE-POSITIVE RATE', ink);
  r.text(rx - 30, ry - 14, 'TPR', ink);
  return r.png();
}

/** The split flag of one set. */
function splitFlag(cmd: string, args: ParsedArgs, name: string): Examples['split'] {
  return choiceFlag(cmd, args, name, ['test', 'train', 'all']);
}

/** `vae ood MODEL --in DATASET --ood DATASET`: how well each anomaly score tells the two apart. */
export const oodCommand: Command = {
  name: 'ood',
  usage:
    'MODEL --in DATASET --ood DATASET [--limit N --seed S] [--score NAME] [--csv FILE] [--png FILE] [--json]',
  flags: {
    in: {
      type: 'string',
      value: 'DATASET',
      description: "in-distribution data (default: the card's dataset)",
    },
    ood: { type: 'string', value: 'DATASET', description: 'out-of-distribution data' },
    'in-split': {
      type: 'string',
      value: 'S',
      description: 'split of --in: test, train or all',
      default: 'test',
    },
    'ood-split': {
      type: 'string',
      value: 'S',
      description: 'split of --ood: test, train or all',
      default: 'all',
    },
    limit: {
      type: 'string',
      value: 'N',
      description: 'score N examples of each set, drawn at random with --seed (default: all)',
    },
    seed: { type: 'string', value: 'S', description: 'seed of --limit', default: '0' },
    ...SCORE_FLAGS,
    csv: {
      type: 'string',
      value: 'FILE',
      description: 'per-example rows: set, index, file, label, every score and the statistics',
      default: 'DIR/ood.csv',
    },
    png: {
      type: 'string',
      value: 'FILE',
      description: "the default score's two histograms and every score's ROC curve",
      default: 'DIR/ood.png',
    },
    'image-size': { type: 'string', value: 'HxWxC', description: 'size to convert png: images to' },
    json: { type: 'boolean', description: 'print the table as JSON, in one last line' },
    ...MODEL_FLAGS,
    ...LIKELIHOOD_FLAG,
  },
  details: [
    'Scores both sets with every anomaly score the model offers (and, for images, the PNG size of the',
    'image as a baseline that uses no model), then prints per score: AUROC, AUPRC and the false-positive',
    'rate at 95 % true-positive rate (the out-of-distribution set is the positive class), and, with the',
    "model's calibration, the threshold at its false-alarm rate with the share of each set past it. The",
    'last line of --json: {"score", "auroc", "auprc", "fpr95", "threshold", "n": {"in", "ood"}, "variants"}',
    'for the default score, "variants" holding every score\'s figures.',
  ].join('\n'),
  async run(args) {
    const dir = onePositional('ood', args, 'model directory');
    if (args.flags.ood === undefined)
      throw new UsageError('vae ood: give the out-of-distribution data: --ood DATASET');
    const limit = args.flags.limit === undefined ? undefined : intFlag('ood', args, 'limit', 1);
    const seed = intFlag('ood', args, 'seed', 0);
    const options = scoreOptions('ood', args);
    const csv = pathFlag('ood', args, 'csv', dir);
    const png = pathFlag('ood', args, 'png', dir);
    const imageShape = imageSizeFlag('ood', args);
    const quiet = args.flags.json === true;
    const model = await loadModel('ood', args, dir);
    try {
      const inName = (args.flags.in as string | undefined) ?? model.card?.dataset;
      if (inName === undefined)
        throw new UsageError('vae ood: the model has no card.json: give --in DATASET');
      const load = (name: string, split: Examples['split']) =>
        examplesOf('ood', model, name, split, {
          ...(limit === undefined ? {} : { limit }),
          seed,
          ...(imageShape ? { imageShape } : {}),
        });
      const sets = {
        in: await load(inName, splitFlag('ood', args, 'in-split')),
        ood: await load(stringFlag('ood', args, 'ood'), splitFlag('ood', args, 'ood-split')),
      };
      const bar = quiet ? undefined : progressBar();
      const { rows, pairs, results } = await oodReport(model, sets.in.batch, sets.ood.batch, {
        ...options,
        onProgress: (set, done, total) =>
          bar?.update(done / total, `scoring ${sets[set].name}: ${done}/${total}`),
      });
      bar?.done();
      const main = results.in.score;
      const rate = options.falseAlarmRate ?? model.card?.anomaly?.falseAlarmRate;
      const stats = Object.keys(results.in.statistics);
      const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      const csvRows = (['in', 'ood'] as const).flatMap((set) => {
        const ex = sets[set];
        const r = results[set];
        return Array.from({ length: ex.batch.shape[0] as number }, (_, i) => [
          set,
          ex.indices[i] as number,
          csvText(ex.ids?.[i] ?? ''),
          ex.labels ? (ex.labels[i] as number) : '',
          ...pairs.map((p) => (p[set][i] as number) ?? ''),
          ...(r.percentiles ? [r.percentiles[i] as number, r.anomalous?.[i] ? 1 : 0] : []),
          ...stats.map((k) => (r.statistics[k as keyof typeof r.statistics] as Float64Array)[i] as number),
        ]);
      });
      await writeCsv(
        csv,
        [
          'set',
          'index',
          'file',
          'label',
          ...pairs.map((p) => p.name),
          ...(results.in.percentiles ? [`${main}_percentile`, 'anomalous'] : []),
          ...stats.map(snake),
        ],
        csvRows,
      );
      await writeFileAtomic(png, plot(pairs, rows, { in: sets.in.name, ood: sets.ood.name }));
      const head = rows[0] as OodRow;
      const n = { in: sets.in.batch.shape[0] as number, ood: sets.ood.batch.shape[0] as number };
      if (!quiet) {
        out(
          `${dir}: in ${sets.in.name} ${sets.in.split} (${n.in}), out ${sets.ood.name} ${sets.ood.split} (${n.ood}); K=${results.in.samples}; OOD is the positive class`,
        );
        out('score         AUROC    AUPRC    FPR@95   threshold   false alarms  detected');
        for (const row of rows) {
          const cal =
            row.threshold === undefined
              ? '   (no calibration)'
              : `${row.threshold.toPrecision(5).padStart(11)}   ${(100 * (row.falseAlarms ?? 0)).toFixed(2).padStart(6)} %    ${(100 * (row.detections ?? 0)).toFixed(2).padStart(6)} %`;
          out(
            `${`${row.name}${row.name === main ? '*' : row.name === PNG_SIZE ? (row.reversed ? '†(−)' : '†') : ''}`.padEnd(12)}  ${row.auroc.toFixed(4)}   ${row.auprc.toFixed(4)}   ${row.fpr95.toFixed(4)} ${cal}`,
          );
        }
        out(
          `* the default score; † the image's PNG size, which uses no model, in the direction that separates these two sets better, (−): smaller is more unusual (a baseline chosen with hindsight). Threshold: flags ${rate === undefined ? '—' : `${(100 * rate).toFixed(1)} %`} of the model's own held-out data.`,
        );
        note(`wrote ${csv} and ${png}`);
      }
      const variants = Object.fromEntries(
        rows.map((row) => [
          row.name,
          {
            auroc: row.auroc,
            auprc: row.auprc,
            fpr95: row.fpr95,
            ...(row.threshold === undefined
              ? {}
              : { threshold: row.threshold, falseAlarms: row.falseAlarms, detections: row.detections }),
          },
        ]),
      );
      if (args.flags.json) {
        out(
          JSON.stringify({
            score: head.name,
            auroc: head.auroc,
            auprc: head.auprc,
            fpr95: head.fpr95,
            threshold: head.threshold ?? null,
            falseAlarms: head.falseAlarms ?? null,
            detections: head.detections ?? null,
            n,
            samples: results.in.samples,
            variants,
          }),
        );
      }
    } finally {
      await model.dispose();
    }
    return 0;
  },
};
