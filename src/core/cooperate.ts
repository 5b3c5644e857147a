/**
 * Long arithmetic on the event loop, taken in turns: one slice at a time in the whole process, each
 * slice in a turn of the event loop of its own, so that I/O (a health check, another request) is
 * served between slices however many long computations run at once. Platform-neutral: setImmediate
 * where there is one, else setTimeout.
 */

const waiting: (() => void)[] = [];
let busy = false;
const later: (run: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? (run) => (globalThis as unknown as { setImmediate(f: () => void): void }).setImmediate(run)
    : (run) => setTimeout(run, 0);

/**
 * Waits for this caller's turn to run a slice of arithmetic; call the returned function when the
 * slice is done (the next waiter then runs in a later turn of the event loop).
 */
export async function takeTurn(): Promise<() => void> {
  if (busy) await new Promise<void>((resolve) => waiting.push(resolve));
  busy = true;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const next = waiting.shift();
    if (next) later(next);
    else busy = false;
  };
}
