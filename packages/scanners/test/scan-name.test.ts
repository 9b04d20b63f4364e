import { describe, expect, it } from '@jest/globals';
import { formatScanName, parseTaskId } from '../src/scan-name.js';

describe('scan names carrying the task id', () => {
  it('round-trips a task id through the scan name', () => {
    const name = formatScanName('ne_scan_20251201_143022_a1b2c3d4', 'Weekly DMZ');
    expect(name).toBe('[nmcp:ne_scan_20251201_143022_a1b2c3d4] Weekly DMZ');
    expect(parseTaskId(name)).toBe('ne_scan_20251201_143022_a1b2c3d4');
  });

  it('does not recognise scans created by people or other tools', () => {
    expect(parseTaskId('Weekly DMZ')).toBeNull();
    expect(parseTaskId('[nmcp:] x')).toBeNull();
    expect(parseTaskId('copy of [nmcp:ne_scan_20251201_143022_a1b2c3d4] x')).toBeNull();
  });

  it('keeps names on one line and refuses task ids that could break the marker', () => {
    expect(formatScanName('t1', 'a\nb\tc')).toBe('[nmcp:t1] a b c');
    expect(() => formatScanName('t] evil', 'x')).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
