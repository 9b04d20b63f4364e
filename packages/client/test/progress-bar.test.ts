import { describe, expect, it } from '@jest/globals';
import { ProgressBar, renderBar } from '../src/progress-bar.js';
import type { ProgressStream } from '../src/progress-bar.js';
import type { ScanStatus } from '../src/index.js';

function stream(isTTY: boolean): ProgressStream & { written: string[] } {
  const written: string[] = [];
  return { isTTY, columns: 80, written, write: (chunk: string) => written.push(chunk) > 0 };
}

const status = (s: ScanStatus['status'], progress?: number): ScanStatus => ({ task_id: 't1', status: s, ...(progress === undefined ? {} : { progress }) });

describe('progress display', () => {
  it('fills the bar in proportion, clamping out-of-range values', () => {
    expect(renderBar(0.5, 10)).toBe('[#####-----]');
    expect(renderBar(1.7, 4)).toBe('[####]');
    expect(renderBar(Number.NaN, 4)).toBe('[----]');
  });

  it('redraws one line in place on a terminal and ends it with a newline', () => {
    const out = stream(true);
    const bar = new ProgressBar(out, 't1');
    bar.update(status('running', 40));
    bar.update(status('completed'));
    bar.finish();
    expect(out.written).toHaveLength(3);
    expect(out.written[0]).toBe(`\r${renderBar(0.4)}  40%  running  t1\x1b[K`);
    expect(out.written[1]).toContain(' 100%  completed');
    expect(out.written[2]).toBe('\n');
  });

  it('writes plain lines only when something changed when not a terminal', () => {
    const out = stream(false);
    const bar = new ProgressBar(out, 't1');
    bar.update({ ...status('queued'), queue_position: 2 });
    bar.update({ ...status('queued'), queue_position: 2 });
    bar.update(status('running', 10));
    bar.update(status('running', 10));
    bar.update(status('failed'));
    bar.finish();
    expect(out.written.join('')).toBe('t1: queued (position 2)\nt1: running 10%\nt1: failed\n');
  });
});
