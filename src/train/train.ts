/**
 * `trainVae`, as tfjs-layers' `fit` is laid out: prepare the splits, start fresh or resume, pick a
 * stepper (worker threads or the main thread), run the epoch loop with its callbacks (checkpoint,
 * training log, the caller's), evaluate on the test split and write card.json.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelCard } from '../core/model-dir.js';
import { MODEL_FILES } from '../core/model-dir.js';
import { type BackendName, kernelsFor, selectBackend } from './backend.js';
import { cleanLeftovers, loadCheckpoint, loadTrainingState, writeCard } from './checkpoint.js';
import { loadDataset } from './datasets.js';
import { DataError } from './errors.js';
import { checkpointCallback, saveRun, trainingLogCallback } from './fit/disk-callbacks.js';
import { testAndCard } from './fit/finish.js';
import { type EpochCallback, fitLoop } from './fit/fit-loop.js';
import { PoolStepper } from './fit/pool-stepper.js';
import { identityOf, initOrResume, type SavedRun } from './fit/run-state.js';
import { prepareSplits } from './fit/splits.js';
import { LocalStepper, type Stepper, stepperPlan } from './fit/stepper.js';
import type { VaeNetworks } from './model.js';
import { checkTrainOptions, DEFAULT_TRAIN_OPTIONS, type EpochReport, type TrainOptions } from './options.js';
import { autoWorkers } from './parallel/coordinator.js';

/**
 * A run into a directory that holds a trained model needs `resume` (continue it) or `force` (replace it).
 * @throws DataError naming the directory and both ways out.
 */
function refuseToReplace(o: TrainOptions): void {
  if (o.resume || o.force) return;
  const held = [MODEL_FILES.card, MODEL_FILES.tfjs].filter((f) => existsSync(join(o.out, f)));
  if (held.length > 0) {
    throw new DataError(
      `cannot train into ${o.out}: it holds a trained model (${held.join(', ')}); resume it (--resume), replace it (--force), or choose another --out`,
    );
  }
}

/** The newest checkpoint of `out`, to resume. */
async function loadSaved(out: string): Promise<SavedRun> {
  const { state, optimizerWeights } = await loadTrainingState(out);
  return { nets: await loadCheckpoint(out), state, optimizerWeights, where: out };
}

/** What `trainVae` produced. */
export interface TrainResult {
  card: ModelCard;
  networks: VaeNetworks;
  backend: BackendName;
  history: EpochReport[];
  /** `signal` stopped the run; the checkpoint holds its last step, and `resume` continues it. */
  aborted: boolean;
}

/**
 * Trains a VAE and writes the model directory of the contract: `card.json`, the `tfjs/` checkpoint
 * (after every epoch, with the optimizer state, so `resume` continues exactly) and
 * `training-log.jsonl`. ONNX files are written by `exportVae` from `vae-onnx/export`.
 *
 * Per example the loss is the negative ELBO: −log p(x|z) for one reparameterized z ~ q(z|x) plus the
 * analytic KL(q(z|x) || N(0, I)); β, KL warm-up and free bits reshape the KL term. Adam minimizes its
 * batch mean. Epoch orders and noise are derived from the seed and the epoch or step number, so a
 * resumed run computes what an uninterrupted one would.
 * @throws DataError for unusable data, a checkpoint that does not match, or a loss that turns NaN
 *   (the last good checkpoint stays in place).
 */
export async function trainVae(
  options: Partial<TrainOptions> & Pick<TrainOptions, 'out'>,
): Promise<TrainResult> {
  const o: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  checkTrainOptions(o);
  refuseToReplace(o);
  await cleanLeftovers(o.out);
  const backend = (await selectBackend(o.backend, { kernels: kernelsFor(o.arch) })).name;
  const splits = prepareSplits(
    o,
    typeof o.dataset === 'string' ? await loadDataset(o.dataset, o.datasetOptions) : o.dataset,
  );
  const workers = o.workers === 'auto' ? autoWorkers(backend, o.batchSize) : o.workers;
  if (o.batchSize % workers !== 0) {
    throw new RangeError(`trainVae: "batchSize" ${o.batchSize} must split evenly across ${workers} workers`);
  }
  await mkdir(o.out, { recursive: true });
  const identity = identityOf(o, splits, workers);
  const run = await initOrResume(o, splits, identity, o.resume ? await loadSaved(o.out) : undefined);
  const plan = stepperPlan(o, splits);
  let stepper: Stepper | undefined;
  try {
    stepper =
      workers > 1
        ? await PoolStepper.start(workers, run, {
            ...plan,
            arch: o.arch,
            hiddenDim: o.hiddenDim,
            seed: o.seed,
            learnVariance: o.likelihood === 'gaussian' && o.variance === 'learned',
          })
        : new LocalStepper(run, plan);
    const callbacks: EpochCallback[] = [checkpointCallback(o.out), trainingLogCallback(o.out)];
    if (o.onEpoch) callbacks.push(({ report }) => o.onEpoch?.(report));
    const { stoppedEarly, aborted } = await fitLoop(o, splits, run, stepper, callbacks);
    // Stopped inside an epoch: keep its steps, so that --resume continues from there.
    if (aborted) await saveRun(o.out, run, stepper.sync());
    const card = await testAndCard(o, splits, run, {
      backend,
      workers,
      stoppedEarly,
      test: splits.data.test,
    });
    await writeCard(o.out, card);
    return { card, networks: run.nets, backend, history: run.history, aborted };
  } finally {
    await stepper?.close();
    run.logVariance?.dispose();
  }
}

export { TRAINING_LOG } from './fit/disk-callbacks.js';
export { shouldStopEarly } from './fit/fit-loop.js';
