import { describe, expect, it } from '@jest/globals';
import { driftItems, hostDown } from '../src/drift.js';
import { validateFaultPatch } from '../src/faults.js';

const item = (port: number, plugin: number, severity: number): string =>
  `<ReportItem port="${port}" svc_name="www" protocol="tcp" severity="${severity}" pluginID="${plugin}" pluginName="p${plugin}" pluginFamily="General">\n<x>y</x>\n</ReportItem>\n`;
const ITEMS = Array.from({ length: 400 }, (_, i) => item(80 + (i % 7), 10_000 + i, i % 5)).join('') + item(0, 19506, 0);

describe('drift between repeated scans of a target', () => {
  it('leaves the first scan of a target and a drift of 0 untouched', () => {
    expect(driftItems(ITEMS, '10.0.0.1', 1, 0.5)).toBe(ITEMS);
    expect(driftItems(ITEMS, '10.0.0.1', 3, 0)).toBe(ITEMS);
    expect(hostDown('10.0.0.1', 1, 1)).toBe(false);
  });

  it('changes a few percent of the items, the same way for the same target and run', () => {
    const second = driftItems(ITEMS, '10.0.0.1', 2, 0.05);
    expect(driftItems(ITEMS, '10.0.0.1', 2, 0.05)).toBe(second);
    expect(second).not.toBe(ITEMS);
    expect(driftItems(ITEMS, '10.0.0.1', 3, 0.05)).not.toBe(second);
    expect(driftItems(ITEMS, '10.0.0.2', 2, 0.05)).not.toBe(second);
    const count = (text: string): number => text.split('<ReportItem ').length - 1;
    const lines = second.split('\n').filter((line) => line.startsWith('<ReportItem '));
    const original = new Set(ITEMS.split('\n').filter((line) => line.startsWith('<ReportItem ')));
    const changedOrNew = lines.filter((line) => !original.has(line)).length;
    const dropped =
      count(ITEMS) -
      (lines.length -
        lines.filter((line) => !original.has(line) && /port="(\d+)"/.exec(line)?.[1] !== undefined && Number(/port="(\d+)"/.exec(line)?.[1]) >= 1024).length);
    expect(changedOrNew).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
    expect(changedOrNew + dropped).toBeLessThan(count(ITEMS) * 0.2);
    expect(second).toContain('pluginID="19506"');
  });

  it('takes an occasional host down', () => {
    const down = Array.from({ length: 1000 }, (_, i) => hostDown(`10.0.${i >> 8}.${i & 255}`, 2, 0.2)).filter(Boolean).length;
    expect(down).toBeGreaterThan(20);
    expect(down).toBeLessThan(100);
  });

  it('accepts drift between 0 and 1 in PUT /_sim/faults', () => {
    expect(validateFaultPatch({ drift: 0 })).toEqual({ drift: 0 });
    expect(() => validateFaultPatch({ drift: 2 })).toThrow(/drift must be between 0 and 1/);
  });
});
