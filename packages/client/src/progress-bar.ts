import type { ScanStatus } from './types.js';

/** The part of a stream the progress display needs (process.stderr satisfies it). */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): boolean;
}

const BAR_WIDTH = 30;

/** `[#########---------------------]` for a fraction in 0..1 (clamped). */
export function renderBar(fraction: number, width = BAR_WIDTH): string {
  const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.round(clamped * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

function describe(status: ScanStatus): string {
  if (status.status === 'queued' && typeof status.queue_position === 'number') return `queued (position ${status.queue_position})`;
  return status.status;
}

/** Progress shown for a status: the scanner's figure while running, full once completed. */
export function percentOf(status: ScanStatus): number | null {
  if (status.status === 'completed') return 100;
  return typeof status.progress === 'number' ? Math.round(status.progress) : null;
}

/**
 * Shows a scan's progress on stderr while the CLI waits. On a terminal one line is redrawn in
 * place; otherwise (CI logs, pipes) a plain line is written only when the status or the percentage
 * changes, because carriage returns make unreadable logs.
 */
export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly label: string;
  private lastLine: string | null = null;
  private drawn = false;

  constructor(stream: ProgressStream, label: string) {
    this.stream = stream;
    this.label = label;
  }

  update(status: ScanStatus): void {
    const percent = percentOf(status);
    if (this.stream.isTTY) {
      const line = `${renderBar((percent ?? 0) / 100)} ${percent === null ? '  …' : `${String(percent).padStart(3)}%`}  ${describe(status)}  ${this.label}`;
      const width = Math.max(20, (this.stream.columns ?? 80) - 1);
      // \r returns to column 0 and \x1b[K clears what a longer previous line left behind.
      this.stream.write(`\r${line.slice(0, width)}\x1b[K`);
      this.drawn = true;
      return;
    }
    const line = `${this.label}: ${describe(status)}${percent === null ? '' : ` ${percent}%`}`;
    if (line === this.lastLine) return;
    this.lastLine = line;
    this.stream.write(`${line}\n`);
  }

  /** Ends the redrawn line so what follows starts on a fresh one. */
  finish(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
