/**
 * Failpoints for crash tests: the process kills itself (SIGKILL) at an exact place, set by the
 * environment, so that a test places its kills by what the process is doing, not by the clock.
 * test/crash-consistency.test.ts uses them.
 *
 * - `VAE_ONNX_KILL_AT_WRITE=n`: when the n-th atomic write of the process has written its temporary
 *   file and not yet renamed it (the worst moment for a write).
 * - `VAE_ONNX_KILL_AT_STEP=n`: when the n-th training step of the process has finished (with the
 *   worker pool, the next step is then already running).
 * - `VAE_ONNX_PAUSE_AT_STEP=n:FILE`: after the n-th step, writes FILE.paused and waits (blocking)
 *   until FILE exists, so that a test can act while a run is certainly under way.
 */
import { existsSync, writeFileSync } from 'node:fs';

const KILL_AT_WRITE = Number(process.env.VAE_ONNX_KILL_AT_WRITE ?? 0);
const KILL_AT_STEP = Number(process.env.VAE_ONNX_KILL_AT_STEP ?? 0);
const PAUSE_AT_STEP = /^(\d+):(.+)$/.exec(process.env.VAE_ONNX_PAUSE_AT_STEP ?? '');
let writes = 0;
let steps = 0;

/** Counts an atomic write; kills the process at the one VAE_ONNX_KILL_AT_WRITE names. */
export function failpointWrite(): void {
  if (KILL_AT_WRITE > 0 && ++writes === KILL_AT_WRITE) process.kill(process.pid, 'SIGKILL');
}

/** Counts a training step; kills the process at the one VAE_ONNX_KILL_AT_STEP names, pauses at VAE_ONNX_PAUSE_AT_STEP's. */
export function failpointStep(): void {
  steps++;
  if (KILL_AT_STEP > 0 && steps === KILL_AT_STEP) process.kill(process.pid, 'SIGKILL');
  if (PAUSE_AT_STEP && steps === Number(PAUSE_AT_STEP[1])) {
    const release = PAUSE_AT_STEP[2] as string;
    writeFileSync(`${release}.paused`, String(process.pid));
    const wait = new Int32Array(new SharedArrayBuffer(4));
    while (!existsSync(release)) Atomics.wait(wait, 0, 0, 20);
  }
}
