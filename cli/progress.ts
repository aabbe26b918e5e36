/** A one-line progress bar on stderr (bytes, rate, ETA), redrawn at most 10 times a second. */
export interface Progress {
  add(bytes: number): void;
  done(): void;
}

const MiB = 1024 * 1024;

export function formatBytes(n: number): string {
  if (n >= 1024 * MiB) return `${(n / 1024 / MiB).toFixed(2)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** `[#####.....]` for done of total. */
export function barText(done: number, total: number, width = 30): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(frac * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export function progressLine(label: string, done: number, total: number, elapsedSeconds: number, width = 30): string {
  const rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
  const eta = rate > 0 ? (total - done) / rate : Infinity;
  return `${label} ${barText(done, total, width)} ${formatBytes(done)}/${formatBytes(total)} ${formatBytes(rate)}/s ETA ${formatDuration(eta)}`;
}

/** `enabled` false (not a TTY, or --json) draws nothing. */
export function progressBar(label: string, total: number, enabled: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  const start = Date.now();
  let done = 0;
  let last = 0;
  const draw = (force: boolean) => {
    const now = Date.now();
    if (!enabled || (!force && now - last < 100)) return;
    last = now;
    stream.write(`\r${progressLine(label, done, total, (now - start) / 1000)}\x1b[K`);
  };
  return {
    add(bytes) {
      done += bytes;
      draw(false);
    },
    done() {
      draw(true);
      if (enabled) stream.write('\n');
    },
  };
}

/** A one-line status on stderr for waits that count items rather than bytes (power requests). */
export interface StatusLine {
  update(text: string): void;
  done(): void;
}

export function statusLine(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): StatusLine {
  let drawn = false;
  return {
    update(text) {
      if (!enabled) return;
      drawn = true;
      stream.write(`\r${text}\x1b[K`);
    },
    done() {
      if (enabled && drawn) stream.write('\n');
    },
  };
}
