/** The epoch callbacks of a run in Node that write into its model directory. */
import { join } from 'node:path';
import { writeFileAtomic } from '../../node/atomic-write.js';
import { saveCheckpoint } from '../checkpoint.js';
import type { SharedState } from '../parallel/adam.js';
import { type EpochCallback, withCheckpointContents } from './fit-loop.js';
import type { RunState } from './run-state.js';

/** The training log next to card.json: one JSON line per epoch. */
export const TRAINING_LOG = 'training-log.jsonl';

/** Writes the run's checkpoint (weights, Adam state, run state) into `out`. */
export function saveRun(out: string, run: RunState, trained: SharedState): Promise<void> {
  return withCheckpointContents(run, trained, (training) => saveCheckpoint(out, run.nets, training));
}

/** The callback that writes the checkpoint after every epoch. */
export function checkpointCallback(out: string): EpochCallback {
  return ({ run, trained }) => saveRun(out, run, trained);
}

/** The callback that rewrites training-log.jsonl after every epoch. */
export function trainingLogCallback(out: string): EpochCallback {
  return ({ run }) =>
    writeFileAtomic(join(out, TRAINING_LOG), `${run.history.map((h) => JSON.stringify(h)).join('\n')}\n`);
}
