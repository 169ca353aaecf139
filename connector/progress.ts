/**
 * Progress for long work (sync, write-back): a redrawn bar on a terminal, periodic plain lines otherwise
 * (logs, CI, pipes), both on stderr by default so stdout stays clean for data. Shows counts, rate and ETA.
 */

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  label: string;
  total?: number;
  stream?: ProgressStream;
  /** Unit shown after counts. Default "records". */
  unit?: string;
  /** Plain-line interval in ms when not a TTY. Default 2,000. */
  intervalMs?: number;
  /** Injectable clock (ms). */
  now?: () => number;
  /** Force TTY rendering on or off (default: stream.isTTY). */
  tty?: boolean;
}

export interface Progress {
  /** Sets the count done (and the total when it becomes known). */
  update(done: number, total?: number): void;
  /** Adds n to the count done. */
  tick(n?: number): void;
  /** Finishes: clears the bar and prints the final message. */
  done(message?: string): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** The text of one progress line (exported for tests). */
export function progressLine(state: { label: string; done: number; total: number | undefined; elapsedMs: number; unit: string; width?: number }): string {
  const { label, done, total, elapsedMs, unit } = state;
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? done / seconds : 0;
  const parts: string[] = [label];
  if (total !== undefined && total > 0) {
    const fraction = Math.min(1, done / total);
    if (state.width !== undefined) {
      const cells = Math.max(10, Math.min(40, state.width));
      const filled = Math.round(fraction * cells);
      parts.push(`[${'#'.repeat(filled)}${'-'.repeat(cells - filled)}]`);
    }
    parts.push(`${formatCount(done)}/${formatCount(total)} ${unit} (${Math.floor(fraction * 100)}%)`);
  } else {
    parts.push(`${formatCount(done)} ${unit}`);
  }
  parts.push(`${formatCount(rate)}/s`);
  if (total !== undefined && total > done && rate > 0) parts.push(`ETA ${formatDuration((total - done) / rate)}`);
  return parts.join(' ');
}

export function createProgress(options: ProgressOptions): Progress {
  const stream: ProgressStream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  const now = options.now ?? (() => Date.now());
  const unit = options.unit ?? 'records';
  const intervalMs = options.intervalMs ?? 2000;
  const started = now();
  let done = 0;
  let total = options.total;
  let lastDraw = -Infinity;
  let finished = false;
  let drawnLength = 0;

  const line = (): string => {
    const columns = stream.columns ?? 80;
    return progressLine({ label: options.label, done, total, elapsedMs: now() - started, unit, ...(tty ? { width: Math.floor(columns / 3) } : {}) });
  };

  const draw = (force: boolean): void => {
    if (finished) return;
    const t = now();
    // A terminal redraws at most ~10 times a second; plain output every intervalMs.
    if (!force && t - lastDraw < (tty ? 100 : intervalMs)) return;
    lastDraw = t;
    const text = line();
    if (tty) {
      const columns = stream.columns ?? 80;
      const clipped = text.slice(0, Math.max(1, columns - 1));
      stream.write(`\r${clipped}${' '.repeat(Math.max(0, drawnLength - clipped.length))}`);
      drawnLength = clipped.length;
    } else {
      stream.write(`${text}\n`);
    }
  };

  return {
    update(value: number, newTotal?: number): void {
      if (newTotal !== undefined) total = newTotal;
      done = value;
      draw(false);
    },
    tick(n = 1): void {
      done += n;
      draw(false);
    },
    done(message?: string): void {
      if (finished) return;
      if (tty && drawnLength > 0) stream.write(`\r${' '.repeat(drawnLength)}\r`);
      finished = true;
      stream.write(`${message ?? line()}\n`);
    },
  };
}
