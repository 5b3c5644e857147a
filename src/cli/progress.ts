/** A one-line progress bar on stderr; on a terminal it redraws in place, elsewhere it prints now and then. */
export interface ProgressBar {
  update(fraction: number, text: string): void;
  done(text?: string): void;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Formats seconds as m:ss. */
export { duration as formatDuration };

/** Creates a progress bar writing to `stream` (stderr by default). */
export function progressBar(stream: NodeJS.WriteStream = process.stderr, width = 24): ProgressBar {
  const tty = stream.isTTY === true;
  let lastPrinted = -1;
  let lastDraw = 0;
  return {
    update(fraction, text) {
      const f = Math.min(1, Math.max(0, fraction));
      const filled = Math.round(f * width);
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(f * 100).toFixed(0).padStart(3)}% ${text}`;
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 80 && f < 1) return;
        lastDraw = now;
        stream.write(`\r${line.slice(0, (stream.columns ?? 120) - 1)}\x1b[K`);
      } else {
        // Without a terminal, one line per tenth keeps logs readable.
        const tenth = Math.floor(f * 10);
        if (tenth > lastPrinted) {
          lastPrinted = tenth;
          stream.write(`${line}\n`);
        }
      }
    },
    done(text) {
      if (tty) stream.write('\r\x1b[K');
      if (text) stream.write(`${text}\n`);
    },
  };
}
