/** The `Stepper` of data-parallel worker threads (Node's worker_threads), sharing weights and Adam state. */
import type { BuiltinArchitecture } from '../architecture.js';
import type { LikelihoodSpec } from '../elbo.js';
import { assignFlat, type SharedState } from '../parallel/adam.js';
import { WorkerPool } from '../parallel/coordinator.js';
import type { RunState } from './run-state.js';
import type { StepLosses, Stepper, StepperPlan } from './stepper.js';

/** Steps spread over worker threads that hold the weights in shared memory. */
export class PoolStepper implements Stepper {
  /** The workers start the next step as soon as the current one ends, while this thread reads its result. */
  readonly lookahead = 1;

  private constructor(
    private readonly pool: WorkerPool,
    private readonly run: RunState,
  ) {}

  /** Starts `workers` threads with the run's networks, weights and Adam state. */
  static async start(
    workers: number,
    run: RunState,
    plan: StepperPlan & { architecture: BuiltinArchitecture; seed: number; learnVariance: boolean },
  ): Promise<PoolStepper> {
    const likelihood: LikelihoodSpec['kind'] = run.likelihood.kind;
    const pool = await WorkerPool.start(
      {
        workers,
        architecture: plan.architecture,
        inputShape: plan.inputShape,
        latentDim: plan.latentDim,
        seed: plan.seed,
        learningRate: plan.learningRate,
        likelihood,
        learnVariance: plan.learnVariance,
        logVariance: run.logVariance ? (run.logVariance.dataSync()[0] as number) : 0,
        freeBits: plan.freeBits,
        batchSize: plan.batchSize,
        images: plan.images,
      },
      run.adam,
    );
    return new PoolStepper(pool, run);
  }

  step(rows: Uint32Array, seed: number, beta: number): Promise<StepLosses> {
    return this.pool.step(rows, seed, beta);
  }

  sync(): SharedState {
    // The workers hold the weights; bring the main thread's copy up to date for evaluation and the checkpoint.
    const state = this.pool.state();
    assignFlat(this.run.variables, state.weights);
    return state;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
