/**
 * Where a run starts: fresh networks, or the networks, optimizer state and history of a saved
 * checkpoint when resuming (which must have been trained with the same settings). The caller reads
 * the checkpoint (from a folder in Node, from memory in a browser).
 */
import * as tf from '@tensorflow/tfjs';
import type { OptimizerWeights, TrainingState, VaeNetworks } from '../../tfjs/checkpoint.js';
import { architectureOf } from '../architecture.js';
import type { LikelihoodSpec } from '../elbo.js';
import { DataError } from '../errors.js';
import { networksOf } from '../model.js';
import { type EpochReport, runIdentity, type TrainOptions } from '../options.js';
import { type SharedState, sharedStateFrom } from '../parallel/adam.js';
import { trainableVariables } from '../step.js';
import type { RunSplits } from './splits.js';

/**
 * The settings a resumed run must share with the saved one: `runIdentity`, the worker count, and
 * standardization, recorded only when it is on (so checkpoints from before the option still resume).
 */
export function identityOf(o: TrainOptions, splits: RunSplits, workers: number): Record<string, unknown> {
  return {
    ...runIdentity(o, splits.data.name),
    workers,
    ...(splits.normalization ? { standardized: true } : {}),
  };
}

/** Everything that changes as a run goes on, and what the checkpoint saves of it. */
export interface RunState {
  nets: VaeNetworks;
  /** The trainable variables in a fixed order (encoder, decoder, then a learned log-variance). */
  variables: tf.Variable[];
  /** Gaussian likelihood: log σ², a variable (trainable when learned). */
  logVariance: tf.Variable | undefined;
  likelihood: LikelihoodSpec;
  /** Weights and Adam state, flat, as the run starts. */
  adam: SharedState;
  history: EpochReport[];
  best: TrainingState['best'];
  epochsDone: number;
  globalStep: number;
  /** The settings a resume must share, recorded in the checkpoint. */
  identity: Record<string, unknown>;
}

/** A checkpoint to resume: its networks, run state and Adam's variables. */
export interface SavedRun {
  nets: VaeNetworks;
  state: TrainingState;
  optimizerWeights: OptimizerWeights;
  /** Where it came from, for messages. */
  where: string;
}

function checkResumable(saved: Record<string, unknown>, wanted: Record<string, unknown>, out: string): void {
  for (const [key, value] of Object.entries(wanted)) {
    if (JSON.stringify(saved[key]) !== JSON.stringify(value)) {
      throw new DataError(
        `cannot resume ${out}: it was trained with ${key} ${JSON.stringify(saved[key])}, this run asks for ${JSON.stringify(value)}`,
      );
    }
  }
}

/**
 * Fresh networks from the seed, or the `saved` checkpoint's. The saved networks become the run's
 * (the caller must not dispose of them); its optimizer tensors are disposed of here.
 * @throws DataError when the checkpoint was trained with other settings.
 */
export async function initOrResume(
  o: TrainOptions,
  splits: RunSplits,
  identity: Record<string, unknown>,
  saved?: SavedRun,
): Promise<RunState> {
  if (saved) {
    try {
      checkResumable(saved.state.config, identity, saved.where);
    } catch (error) {
      saved.nets.encoder.dispose();
      saved.nets.decoder.dispose();
      tf.dispose(saved.optimizerWeights.map((w) => w.tensor));
      throw error;
    }
  }
  const nets = saved ? saved.nets : networksOf(architectureOf(o), splits.data.shape, o.latentDim, o.seed);
  const learnVariance = o.likelihood === 'gaussian' && o.variance === 'learned';
  const logVariance =
    o.likelihood === 'gaussian'
      ? tf.variable(
          tf.scalar(saved?.state.logVariance ?? 2 * Math.log(o.sigma)),
          learnVariance,
          `likelihood_log_variance_${o.seed}`,
        )
      : undefined;
  const likelihood: LikelihoodSpec =
    logVariance === undefined
      ? { kind: 'bernoulli' }
      : { kind: 'gaussian', logVariance: logVariance as tf.Variable<tf.Rank.R0> };
  const variables = trainableVariables(nets, learnVariance && logVariance ? [logVariance] : []);
  const adam = await sharedStateFrom(variables, saved?.optimizerWeights);
  if (saved) tf.dispose(saved.optimizerWeights.map((w) => w.tensor));
  return {
    nets,
    variables,
    logVariance,
    likelihood,
    adam,
    history: (saved?.state.history as unknown as EpochReport[] | undefined) ?? [],
    best: saved?.state.best ?? null,
    epochsDone: saved?.state.epochsDone ?? 0,
    globalStep: saved?.state.globalStep ?? 0,
    identity,
  };
}
