/**
 * `trainInMemory`: the trainer without a file system, for browsers (and any program that holds its
 * data in memory). The same loop, steps, checkpoint format and card as `trainVae`; the checkpoint
 * and card.json come back as files in memory (`ModelFiles`), which `packModelZip` zips and
 * `resumeFrom` takes back. Steps run on the calling thread, on whatever tfjs backend is active
 * (the browser door selects one first); between steps the event loop gets a turn, so a page stays
 * responsive and a stop button can fire its AbortSignal.
 */

import * as tf from '@tensorflow/tfjs';
import type { ModelCard } from '../core/model-dir.js';
import { MODEL_FILES } from '../core/model-dir.js';
import { type ModelFiles, memoryReader } from '../core/model-zip.js';
import { readCheckpointNetworks, readTrainingState, writeCheckpoint } from '../tfjs/checkpoint.js';
import { checkNetworks } from './architecture.js';
import { datasetFromMemory, type MemoryData } from './dataset.js';
import { testAndCard } from './fit/finish.js';
import { type EpochCallback, fitLoop, withCheckpointContents } from './fit/fit-loop.js';
import { identityOf, initOrResume, type RunState, type SavedRun } from './fit/run-state.js';
import { prepareSplits } from './fit/splits.js';
import { LocalStepper, type StepLosses, type Stepper, stepperPlan } from './fit/stepper.js';
import type { VaeNetworks } from './model.js';
import {
  checkTrainOptions,
  DEFAULT_TRAIN_OPTIONS,
  type EpochReport,
  type StepProgress,
  type TrainOptions,
  withNetworkLatent,
} from './options.js';
import type { SharedState } from './parallel/adam.js';

/** Options of `trainInMemory`: `trainVae`'s, without those about files, workers and backends. */
export interface MemoryTrainOptions
  extends Partial<
    Omit<
      TrainOptions,
      'dataset' | 'out' | 'datasetOptions' | 'resume' | 'force' | 'workers' | 'backend' | 'command' | 'onStep'
    >
  > {
  /**
   * Called after every step, with the networks as that step left them (to draw samples as they
   * improve; do not dispose of or train them).
   */
  onStep?: (progress: StepProgress, networks: VaeNetworks) => void;
  /** Continue the run saved in these files (a result's `files`, or an unpacked zip); same settings. */
  resumeFrom?: ModelFiles;
  /** Called after every epoch with that epoch's checkpoint, to keep it (e.g. in IndexedDB). */
  onCheckpoint?: (files: ModelFiles, report: EpochReport) => void | Promise<void>;
  /**
   * Give the event loop a turn once this many ms have passed since the last (between steps). Default
   * 30: enough for a page to paint and take clicks; 0 never yields.
   */
  yieldMs?: number;
}

/** What `trainInMemory` produced. */
export interface MemoryTrainResult {
  card: ModelCard;
  /** The trained networks (the caller disposes of them). */
  networks: VaeNetworks;
  /** The tfjs backend the steps ran on. */
  backend: string;
  history: EpochReport[];
  /** The signal stopped the run; `files` hold its last step, and `resumeFrom: files` continues it. */
  aborted: boolean;
  /** card.json and the tfjs checkpoint (weights, Adam state, run state), by path. */
  files: ModelFiles;
}

/** Resolves on the event loop's next task (a MessageChannel message: not clamped like timers). */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof MessageChannel !== 'function') {
      setTimeout(resolve, 0);
      return;
    }
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** A stepper that gives the event loop a turn every `ms` milliseconds of steps. */
class YieldingStepper implements Stepper {
  private last = performance.now();

  constructor(
    private readonly inner: Stepper,
    private readonly ms: number,
  ) {}

  async step(rows: Uint32Array, seed: number, beta: number): Promise<StepLosses> {
    const losses = await this.inner.step(rows, seed, beta);
    if (this.ms > 0 && performance.now() - this.last >= this.ms) {
      await nextTask();
      this.last = performance.now();
    }
    return losses;
  }

  sync(): SharedState {
    return this.inner.sync();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The run's checkpoint as files in memory. */
function checkpointFiles(run: RunState, trained: SharedState): Promise<ModelFiles> {
  return withCheckpointContents(run, trained, async (training) => {
    const files: ModelFiles = {};
    await writeCheckpoint(
      async (path, bytes) => {
        files[path] = bytes;
      },
      run.nets,
      training,
    );
    return files;
  });
}

/** The checkpoint held in `files`, to resume. */
async function savedFrom(files: ModelFiles): Promise<SavedRun> {
  const read = memoryReader(files);
  const where = 'resumeFrom';
  const { state, optimizerWeights } = await readTrainingState(read, where);
  return { nets: await readCheckpointNetworks(read, where), state, optimizerWeights, where };
}

const encoder = new TextEncoder();

/**
 * Trains a VAE on examples in memory and returns its card, networks and files (card.json and the
 * tfjs checkpoint). The objective, defaults, seeding and checkpoint are `trainVae`'s, so a run
 * here and a run of `vae train` on the same data and settings compute the same steps, and either
 * resumes the other's checkpoint. The test figures in the card come from `data.test`, else from the
 * validation split, else from the training examples.
 * @throws TypeError or RangeError naming the option or data field that does not fit; DataError for
 *   unusable data or a loss that turns NaN; ModelDirError naming the file of `resumeFrom` at fault.
 */
export async function trainInMemory(
  data: MemoryData,
  options: MemoryTrainOptions = {},
): Promise<MemoryTrainResult> {
  const { resumeFrom, onCheckpoint, onStep, yieldMs = 30, ...rest } = options;
  let networks: VaeNetworks | undefined;
  const o: TrainOptions = {
    ...DEFAULT_TRAIN_OPTIONS,
    ...withNetworkLatent(rest, 'trainInMemory'),
    ...(onStep ? { onStep: (progress: StepProgress) => onStep(progress, networks as VaeNetworks) } : {}),
    dataset: datasetFromMemory(data),
    out: '',
    workers: 1,
    resume: resumeFrom !== undefined,
  };
  checkTrainOptions(o);
  if (!(Number.isFinite(yieldMs) && yieldMs >= 0)) {
    throw new RangeError(`trainInMemory: "yieldMs" must be a number >= 0, got ${yieldMs}`);
  }
  const splits = prepareSplits(o, o.dataset as ReturnType<typeof datasetFromMemory>);
  if (o.networks) checkNetworks(o.networks, splits.data.shape, 'trainInMemory');
  const identity = identityOf(o, splits, 1);
  const run = await initOrResume(o, splits, identity, resumeFrom ? await savedFrom(resumeFrom) : undefined);
  networks = run.nets;
  const stepper = new YieldingStepper(new LocalStepper(run, stepperPlan(o, splits)), yieldMs);
  try {
    let files: ModelFiles = resumeFrom ?? {};
    const callbacks: EpochCallback[] = [
      async ({ run: r, trained, report }) => {
        files = await checkpointFiles(r, trained);
        await onCheckpoint?.(files, report);
      },
    ];
    if (o.onEpoch) callbacks.push(({ report }) => o.onEpoch?.(report));
    const { stoppedEarly, aborted } = await fitLoop(o, splits, run, stepper, callbacks);
    if (aborted) files = await checkpointFiles(run, stepper.sync());
    const testSplit = data.test ? 'test' : splits.val ? 'validation' : 'train';
    const test = data.test ? splits.data.test : (splits.val ?? splits.data.train);
    const backend = tf.getBackend();
    const card = await testAndCard(o, splits, run, { backend, workers: 1, stoppedEarly, test, testSplit });
    files = { ...files, [MODEL_FILES.card]: encoder.encode(`${JSON.stringify(card, null, 2)}\n`) };
    return { card, networks: run.nets, backend, history: run.history, aborted, files };
  } finally {
    await stepper.close();
    run.logVariance?.dispose();
  }
}
