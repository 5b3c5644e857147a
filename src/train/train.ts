/**
 * `trainVae`, as tfjs-layers' `fit` is laid out: prepare the splits, start fresh or resume, pick a
 * stepper (worker threads or the main thread), run the epoch loop with its callbacks (checkpoint,
 * training log, the caller's), evaluate on the test split and write card.json.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import type { ModelCard } from '../core/model-dir.js';
import { MODEL_FILES } from '../core/model-dir.js';
import { type CommitEntries, commitEntries, recoverCommits } from '../node/commit.js';
import { lockModelDir } from '../node/dir-lock.js';
import { architectureOf, type BuiltinArchitecture, checkNetworks, kernelsOf } from './architecture.js';
import { type BackendName, selectBackend } from './backend.js';
import { cleanLeftovers, LATEST_FILE, loadCheckpoint, loadTrainingState } from './checkpoint.js';
import { loadDataset } from './datasets.js';
import { DataError } from './errors.js';
import { checkpointCallback, saveRun, TRAINING_LOG, trainingLogCallback } from './fit/disk-callbacks.js';
import { testAndCard } from './fit/finish.js';
import { type EpochCallback, fitLoop } from './fit/fit-loop.js';
import { PoolStepper } from './fit/pool-stepper.js';
import { identityOf, initOrResume, type SavedRun } from './fit/run-state.js';
import { prepareSplits } from './fit/splits.js';
import { LocalStepper, type Stepper, stepperPlan } from './fit/stepper.js';
import type { VaeNetworks } from './model.js';
import {
  checkTrainingMemory,
  checkTrainOptions,
  DEFAULT_TRAIN_OPTIONS,
  type EpochReport,
  type TrainOptions,
  withNetworkLatent,
} from './options.js';
import { autoWorkers } from './parallel/coordinator.js';

/** Where a run that replaces a trained model (`force`) trains, inside the model directory, until it switches in. */
export const STAGED_RUN = '.next';

/** A directory holds a trained model when it has card.json or a complete checkpoint (tfjs/latest.json). */
function holdsModel(dir: string): boolean {
  return existsSync(join(dir, MODEL_FILES.card)) || existsSync(join(dir, MODEL_FILES.tfjs, LATEST_FILE));
}

/** A complete checkpoint to resume in `dir`. */
function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, MODEL_FILES.tfjs, LATEST_FILE));
}

/**
 * Where the run writes its checkpoints: the model directory itself, or, when `force` replaces a
 * trained model (and when `resume` continues such a run), the staging folder beside the old model,
 * which switches in whole at the end. One piece of advice for every way a directory can refuse.
 * @throws DataError naming the directory and what to do.
 */
function runDirectory(o: TrainOptions): string {
  const staged = join(o.out, STAGED_RUN);
  if (o.resume) {
    if (hasCheckpoint(staged)) return staged;
    if (hasCheckpoint(o.out)) return o.out;
    throw new DataError(
      `cannot resume ${o.out}: it holds no complete checkpoint (a run killed before its first checkpoint leaves none); start the run again with the same flags, without --resume`,
    );
  }
  if (!holdsModel(o.out)) return o.out;
  if (o.force) return staged;
  throw new DataError(
    `cannot train into ${o.out}: it holds a trained model (${[MODEL_FILES.card, MODEL_FILES.tfjs].filter((f) => existsSync(join(o.out, f))).join(', ')}); resume it (--resume), replace it (--force: the old model stays until the new one is complete), or choose another --out`,
  );
}

/** The newest checkpoint of `dir`, to resume. */
async function loadSaved(dir: string): Promise<SavedRun> {
  const { state, optimizerWeights } = await loadTrainingState(dir);
  return { nets: await loadCheckpoint(dir), state, optimizerWeights, where: dir };
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
  const o: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...withNetworkLatent(options) };
  checkTrainOptions(o);
  const lock = await lockModelDir(o.out, o.command ?? 'trainVae');
  try {
    await recoverCommits(o.out);
    const dir = runDirectory(o);
    // A new run that replaces a model starts its staging folder afresh.
    if (dir !== o.out && !o.resume) await rm(dir, { recursive: true, force: true });
    await cleanLeftovers(dir);
    return await trainIn(o, dir);
  } finally {
    await lock.release();
  }
}

/** The run itself, its checkpoints in `dir`; its end switches into `o.out` as one commit. */
async function trainIn(o: TrainOptions, dir: string): Promise<TrainResult> {
  const architecture = architectureOf(o);
  const backend = (await selectBackend(o.backend, { kernels: kernelsOf(architecture) })).name;
  const splits = prepareSplits(
    o,
    typeof o.dataset === 'string' ? await loadDataset(o.dataset, o.datasetOptions) : o.dataset,
  );
  if (o.networks) checkNetworks(o.networks, splits.data.shape);
  if (architecture.kind === 'custom' && o.workers !== 'auto' && o.workers > 1) {
    throw new RangeError(
      `trainVae: "workers" must be 1 or "auto" with networks of your own (they train on one thread), got ${o.workers}`,
    );
  }
  const workers =
    architecture.kind === 'custom' ? 1 : o.workers === 'auto' ? autoWorkers(backend, o.batchSize) : o.workers;
  checkTrainingMemory(o, splits.data.shape, workers, o.maxMemoryBytes ?? Math.floor(totalmem() / 2));
  if (o.batchSize % workers !== 0) {
    throw new RangeError(`trainVae: "batchSize" ${o.batchSize} must split evenly across ${workers} workers`);
  }
  await mkdir(dir, { recursive: true });
  const identity = identityOf(o, splits, workers);
  const run = await initOrResume(o, splits, identity, o.resume ? await loadSaved(dir) : undefined);
  const plan = stepperPlan(o, splits);
  let stepper: Stepper | undefined;
  try {
    stepper =
      workers > 1
        ? await PoolStepper.start(workers, run, {
            ...plan,
            architecture: architecture as BuiltinArchitecture,
            seed: o.seed,
            learnVariance: o.likelihood === 'gaussian' && o.variance === 'learned',
          })
        : new LocalStepper(run, plan);
    const callbacks: EpochCallback[] = [checkpointCallback(dir), trainingLogCallback(dir)];
    if (o.onEpoch) callbacks.push(({ report }) => o.onEpoch?.(report));
    const { stoppedEarly, aborted } = await fitLoop(o, splits, run, stepper, callbacks);
    // Stopped inside an epoch: keep its steps, so that --resume continues from there.
    if (aborted) await saveRun(dir, run, stepper.sync());
    const card = await testAndCard(o, splits, run, {
      backend,
      workers,
      stoppedEarly,
      test: splits.data.test,
    });
    const result = { card, networks: run.nets, backend, history: run.history, aborted };
    // The card, what the caller adds (pictures, ONNX files) and, for a staged run, its checkpoint and
    // log: one commit, so that the directory holds the old model or the new one, never a mix.
    const entries: CommitEntries = {
      [MODEL_FILES.card]: `${JSON.stringify(card, null, 2)}\n`,
      ...(o.finish ? await o.finish(result) : {}),
    };
    if (dir !== o.out) {
      entries[MODEL_FILES.tfjs] = { path: join(dir, MODEL_FILES.tfjs) };
      if (existsSync(join(dir, TRAINING_LOG))) entries[TRAINING_LOG] = { path: join(dir, TRAINING_LOG) };
    }
    await commitEntries(o.out, entries);
    if (dir !== o.out) await rm(dir, { recursive: true, force: true });
    return result;
  } finally {
    await stepper?.close();
    run.logVariance?.dispose();
  }
}

export { TRAINING_LOG } from './fit/disk-callbacks.js';
export { shouldStopEarly } from './fit/fit-loop.js';
