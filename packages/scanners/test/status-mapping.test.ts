import { describe, expect, it } from '@jest/globals';
import { computeProgress, mapNessusStatus } from '../src/status-mapping.js';

describe('Nessus status mapping', () => {
  it.each([
    ['', 'queued'],
    ['empty', 'queued'],
    ['pending', 'queued'],
    ['running', 'running'],
    ['pausing', 'running'],
    ['paused', 'running'],
    ['resuming', 'running'],
    ['stopping', 'running'],
    ['processing', 'running'],
    ['completed', 'completed'],
    ['canceled', 'cancelled'],
    ['aborted', 'failed'],
    ['Completed', 'completed'],
    ['imported', 'completed'],
    ['publishing', 'running'],
    ['initializing', 'queued'],
    ['stopped', 'cancelled'],
    ['something-new', 'unknown'],
  ])('maps %j to %s', (raw, state) => {
    expect(mapNessusStatus(raw)).toBe(state);
  });

  it('does not treat inherited object keys as statuses', () => {
    expect(mapNessusStatus('constructor')).toBe('unknown');
    expect(mapNessusStatus('toString')).toBe('unknown');
  });
});

describe('scan progress', () => {
  it('is the share of checks done over all hosts', () => {
    expect(
      computeProgress(
        [
          { scanprogresscurrent: 30, scanprogresstotal: 100 },
          { scanprogresscurrent: 70, scanprogresstotal: 100 },
        ],
        'running',
      ),
    ).toBe(50);
  });

  it('reads numeric strings and ignores missing or negative values', () => {
    expect(
      computeProgress(
        [
          { scanprogresscurrent: '25', scanprogresstotal: '100' },
          { scanprogresscurrent: -5, scanprogresstotal: null },
        ],
        'running',
      ),
    ).toBe(25);
  });

  it('counts hosts not started yet as not done, so progress never drops when they join', () => {
    const one = computeProgress([{ scanprogresscurrent: 80, scanprogresstotal: 100 }], 'running', 4);
    const two = computeProgress(
      [
        { scanprogresscurrent: 90, scanprogresstotal: 100 },
        { scanprogresscurrent: 5, scanprogresstotal: 100 },
      ],
      'running',
      4,
    );
    expect(one).toBe(20);
    expect(two).toBeGreaterThanOrEqual(one);
  });

  it('is clamped to 100, 0 without hosts, and 100 once completed', () => {
    expect(computeProgress([{ scanprogresscurrent: 150, scanprogresstotal: 100 }], 'running')).toBe(100);
    expect(computeProgress([], 'running')).toBe(0);
    expect(computeProgress(null, 'completed')).toBe(100);
  });
});
