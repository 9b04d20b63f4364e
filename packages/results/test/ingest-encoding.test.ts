import { afterEach, describe, expect, it } from '@jest/globals';
import { columnValue, createColumnBuilder } from '../src/columns.js';
import type { LoadedColumn } from '../src/columns.js';
import { ingestExport } from '../src/ingest.js';
import { ResultStore } from '../src/store.js';
import { taskDirWith } from './fixtures.js';
import { syntheticEvents } from './synthetic-events.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

function loaded(kind: 'dictionary', rows: number, build: ReturnType<typeof createColumnBuilder>): LoadedColumn {
  const bytes = build.bytes(rows);
  return { kind, codes: new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), dictionary: build.dictionary() ?? [] };
}

describe('dictionary columns keyed by plugin', () => {
  it('keeps every value exact when a plugin repeats, changes or shares text with another plugin', () => {
    const builder = createColumnBuilder('dictionary');
    // [value, group]: repeats within a group, a changed value in a group, the same text in two
    // groups, arrays equal in content but distinct objects, a string that looks like an array.
    const rows: [string | string[] | null, number][] = [
      ['alpha', 1], ['alpha', 1], ['beta', 1], ['alpha', 1],
      ['alpha', 2], [['CVE-1', 'CVE-2'], 3], [['CVE-1', 'CVE-2'], 3], [['CVE-1'], 3],
      ['CVE-1\u0001CVE-2', 3], [null, 1], ['alpha', 1], [[], 4], [[], 4], ['', 4],
    ];
    rows.forEach(([value, group], row) => builder.set(row, value, group));
    const column = loaded('dictionary', rows.length, builder);
    rows.forEach(([value], row) => expect(columnValue(column, row)).toEqual(value));
    // One entry per distinct value, whichever group saw it first.
    expect(builder.dictionary()).toEqual(['alpha', 'beta', ['CVE-1', 'CVE-2'], ['CVE-1'], 'CVE-1\u0001CVE-2', [], '']);
  });
});

describe('records', () => {
  it('stores lines larger than a write batch and non-ASCII text byte-exact', async () => {
    const task = await taskDirWith(null);
    cleanups.push(task.cleanup);
    // 2 M characters of 3-byte UTF-8 (6 MB) is larger than the 4 MiB write buffer.
    const huge = '\u20ac'.repeat(2 * 1024 * 1024);
    const items = [
      { plugin_id: 1, plugin_output: 'plain' },
      { plugin_id: 2, plugin_output: huge },
      { plugin_id: 3, plugin_output: 'caf\u00e9 \u{1f600} \u4e2d\u6587' },
      ...Array.from({ length: 2000 }, (_, i) => ({ plugin_id: 4, plugin_output: `line ${i} ${'x'.repeat(i % 3000)}` })),
    ];
    await ingestExport({ exportPath: task.exportPath, taskDir: task.taskDir, events: syntheticEvents({ '10.0.0.1': items }) });
    const store = await ResultStore.open(task.taskDir);
    const findings = await store.findings(Array.from({ length: items.length }, (_, i) => i));
    expect(findings.map((finding) => finding.plugin_output)).toEqual(items.map((item) => item.plugin_output));
  });
});
