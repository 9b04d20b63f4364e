import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { columnValue, createColumnBuilder } from '../src/columns.js';
import type { LoadedColumn } from '../src/columns.js';
import { ingestExport } from '../src/ingest.js';
import { MANIFEST_FILE, OFFSETS_FILE, RECORDS_FILE, TEXTS_FILE } from '../src/layout.js';
import { ResultStore } from '../src/store.js';
import { parseFindings, taskDirWith } from './fixtures.js';
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
      ['alpha', 1],
      ['alpha', 1],
      ['beta', 1],
      ['alpha', 1],
      ['alpha', 2],
      [['CVE-1', 'CVE-2'], 3],
      [['CVE-1', 'CVE-2'], 3],
      [['CVE-1'], 3],
      ['CVE-1\u0001CVE-2', 3],
      [null, 1],
      ['alpha', 1],
      [[], 4],
      [[], 4],
      ['', 4],
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
    await ingestExport({ files: task.files, taskId: task.taskId, events: syntheticEvents({ '10.0.0.1': items }) });
    const store = await ResultStore.open(task.storeDir);
    const findings = await store.findings(Array.from({ length: items.length }, (_, i) => i));
    expect(findings.map((finding) => finding.plugin_output)).toEqual(items.map((item) => item.plugin_output));
  });
});

describe('store format v2', () => {
  it('writes text as dictionary codes and plugin output to the text file, and reads both back exactly', async () => {
    const task = await taskDirWith('local3');
    cleanups.push(task.cleanup);
    await ingestExport({ files: task.files, taskId: task.taskId });
    const store = await ResultStore.open(task.storeDir);
    const findings = await store.findings(Array.from({ length: store.size }, (_, i) => i));
    const described = findings.find((finding) => typeof finding.description === 'string' && finding.description.length > 40);
    const withOutput = findings.find((finding) => typeof finding.plugin_output === 'string' && finding.plugin_output.length > 40);
    const records = await readFile(join(task.storeDir, RECORDS_FILE), 'utf8');
    const texts = await readFile(join(task.storeDir, TEXTS_FILE), 'utf8');
    expect(records).not.toContain(JSON.stringify(described?.description).slice(1, -1));
    expect(records).not.toContain(JSON.stringify(withOutput?.plugin_output).slice(1, -1));
    expect(texts).toContain(withOutput?.plugin_output);
    expect(findings).toEqual(await parseFindings('local3'));
  });

  it('keeps a non-text value in a text field as it was, never read as a dictionary code', async () => {
    const task = await taskDirWith(null);
    cleanups.push(task.cleanup);
    async function* odd() {
      for await (const event of syntheticEvents({ '10.0.0.1': [{ plugin_id: 1 }, { plugin_id: 2 }] })) {
        if (event.type === 'finding' && event.finding.plugin_id === 2) {
          const finding = event.finding as unknown as Record<string, unknown>;
          finding.plugin_name = 7;
          finding.plugin_output = 1;
          finding.synopsis = { [`$literal`]: 'x' };
        }
        yield event;
      }
    }
    await ingestExport({ files: task.files, taskId: task.taskId, events: odd() });
    const store = await ResultStore.open(task.storeDir);
    const [, second] = await store.findings([0, 1]);
    expect(second).toMatchObject({ plugin_name: 7, plugin_output: 1, synopsis: { $literal: 'x' } });
  });

  it('still reads a store written in format v1 (every field in the record)', async () => {
    const task = await taskDirWith('local3');
    cleanups.push(task.cleanup);
    await ingestExport({ files: task.files, taskId: task.taskId });
    const directory = task.storeDir;
    const v2 = await ResultStore.open(task.storeDir);
    const expected = await v2.findings(Array.from({ length: v2.size }, (_, i) => i));
    // Rewrite it the way v1 did: whole findings per line, one set of offsets, no packed fields.
    const lines = expected.map((finding) => `${JSON.stringify(finding)}\n`);
    const offsets = [0];
    for (const line of lines) offsets.push(offsets[offsets.length - 1]! + Buffer.byteLength(line));
    await writeFile(join(directory, RECORDS_FILE), lines.join(''));
    await writeFile(join(directory, OFFSETS_FILE), new Uint8Array(Float64Array.from(offsets).buffer));
    await rm(join(directory, TEXTS_FILE));
    const manifest = JSON.parse(await readFile(join(directory, MANIFEST_FILE), 'utf8')) as Record<string, unknown>;
    delete manifest.packed;
    delete manifest.text_field;
    delete manifest.text_bytes;
    await writeFile(join(directory, MANIFEST_FILE), JSON.stringify({ ...manifest, version: 1, store_id: 'v1' }));
    const v1 = await ResultStore.open(task.storeDir);
    expect(v1.manifest.version).toBe(1);
    expect(await v1.findings(Array.from({ length: v1.size }, (_, i) => i))).toEqual(expected);
  });
});

describe('parsing on a worker thread during ingest', () => {
  it.each(['local3', 'compliance'] as const)('%s: builds the same store as parsing on the ingest thread', async (fixture) => {
    const stores = [];
    for (const workers of [0, 1]) {
      const task = await taskDirWith(fixture);
      cleanups.push(task.cleanup);
      const summary = await ingestExport({ files: task.files, taskId: task.taskId, parseOptions: { workers } });
      const store = await ResultStore.open(task.storeDir);
      stores.push({ summary: { ...summary, ingested_at: '' }, findings: await store.findings(Array.from({ length: store.size }, (_, i) => i)) });
    }
    expect(stores[1]).toEqual(stores[0]);
    expect(stores[0]!.findings).toEqual(await parseFindings(fixture));
  });
});
