/** The end of a run, in a directory or in memory alike: its test figures, then its card. */
import type { ModelCard } from '../../core/model-dir.js';
import { logStdSum } from '../../core/normalization.js';
import { deriveSeed } from '../../core/random.js';
import { PACKAGE_VERSION } from '../../core/version.js';
import { weightsIdOfNetworks } from '../../tfjs/checkpoint.js';
import type { Split } from '../dataset.js';
import { evaluate } from '../evaluate.js';
import type { TrainOptions } from '../options.js';
import { calibrateRun } from './anomaly.js';
import { iwaeExamplesWithin } from './budget.js';
import { buildCard, type FinishedRun, round } from './build-card.js';
import { readLogVariance } from './fit-loop.js';
import type { RunState } from './run-state.js';
import type { RunSplits } from './splits.js';

/** How the run ended and where it is measured. */
export interface RunEnd {
  backend: string;
  workers: number;
  stoppedEarly: boolean;
  /** The examples the card's figures are measured on. */
  test: Split;
  /** Which split `test` is (default `test`). */
  testSplit?: FinishedRun['testSplit'];
}

/**
 * Evaluates the trained networks on `end.test` (neg-ELBO, the IWAE bound on the first
 * `o.evalIwLimit` examples, active units; seeded) and builds the run's card.json.
 */
export async function testAndCard(
  o: TrainOptions,
  splits: RunSplits,
  run: RunState,
  end: RunEnd,
): Promise<ModelCard> {
  const test = await evaluate(run.nets.encoder, run.nets.decoder, end.test, splits.data.shape, {
    batchSize: 500,
    likelihood: run.likelihood,
    ...(o.evalLimit === undefined ? {} : { limit: o.evalLimit }),
    seed: deriveSeed(o.seed, 0x7e57),
    iw: o.evalIw,
    iwLimit: Math.min(o.evalIwLimit, iwaeExamplesWithin(run.nets.decoder, o.evalIw)),
    ...(o.onFinishing
      ? {
          onProgress: (stage: string, done: number, total: number) =>
            o.onFinishing?.({ stage: `test ${stage}`, done, total }),
        }
      : {}),
  });
  const read = await readLogVariance(run);
  // As the card keeps it, so that the runtime's scores reproduce the calibration's.
  const logVariance = read === undefined ? undefined : round(read, 6);
  const anomaly = await calibrateRun(
    run.nets,
    splits.data.shape,
    logVariance === undefined ? { kind: 'bernoulli' } : { kind: 'gaussian', logVariance },
    splits.normalization ? logStdSum(splits.normalization) : 0,
    {
      train: splits.data.train,
      fitRows: splits.fitRows,
      heldOut: splits.val ?? end.test,
      heldOutName: splits.val ? 'validation' : (end.testSplit ?? 'test'),
    },
    o.seed,
    o.onFinishing ? (stage, done, total) => o.onFinishing?.({ stage, done, total }) : undefined,
  );
  const weightsId = await weightsIdOfNetworks(run.nets);
  return buildCard({
    options: o,
    datasetName: splits.data.name,
    inputShape: splits.data.shape,
    backend: end.backend,
    workers: end.workers,
    history: run.history,
    epochsDone: run.epochsDone,
    globalStep: run.globalStep,
    trainExamples: splits.fitRows.length,
    valExamples: splits.val?.count ?? 0,
    stoppedEarly: end.stoppedEarly,
    logVariance,
    anomaly,
    weightsId,
    test,
    ...(end.testSplit ? { testSplit: end.testSplit } : {}),
    normalization: splits.normalization,
    packageVersion: PACKAGE_VERSION,
  });
}
