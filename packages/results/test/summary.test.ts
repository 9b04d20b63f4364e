import { afterEach, describe, expect, it } from '@jest/globals';
import { ingestExport } from '../src/ingest.js';
import { readResultSummary } from '../src/store.js';
import { parseEvents, taskDirWith } from './fixtures.js';
import type { FixtureName } from './fixtures.js';
import { syntheticEvents } from './synthetic-events.js';
import type { SyntheticItem } from './synthetic-events.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function ingestFixture(name: FixtureName) {
  const task = await taskDirWith(name);
  cleanups.push(task.cleanup);
  return { summary: await ingestExport({ files: task.files, taskId: task.taskId }), storeDir: task.storeDir };
}

async function ingestSynthetic(hosts: Record<string, SyntheticItem[]>, credentialed?: boolean) {
  const task = await taskDirWith(null);
  cleanups.push(task.cleanup);
  return ingestExport({ files: task.files, taskId: task.taskId, events: syntheticEvents(hosts), ...(credentialed === undefined ? {} : { credentialed }) });
}

const scanInfo = (answer: string): SyntheticItem => ({
  plugin_id: 19506,
  plugin_output: `Information about this scan : \n\nCredentialed checks : ${answer}\nPatch management checks : None\n`,
});

describe('summary.json', () => {
  it.each(['local3', 'tenable', 'compliance'] as const)('counts %s exactly as the parser reports it', async (name) => {
    const events = await parseEvents(name);
    const findings = events.flatMap((e) => (e.type === 'finding' ? [e.finding] : []));
    const { summary, storeDir } = await ingestFixture(name);
    const count = (severity: number) => findings.filter((f) => f.severity === severity).length;
    expect(summary.severity_breakdown).toEqual({ critical: count(4), high: count(3), medium: count(2), low: count(1), info: count(0) });
    expect(summary.total_vulnerabilities).toBe(findings.filter((f) => f.severity >= 1).length);
    expect(summary.findings_total).toBe(findings.length);
    expect(summary.hosts_scanned).toBe(events.filter((e) => e.type === 'host').length);
    expect(summary.file_size_kb).toBeGreaterThan(100);
    expect(await readResultSummary(storeDir)).toEqual(summary);
  });

  it('counts compliance results by outcome', async () => {
    const findings = (await parseEvents('compliance')).flatMap((e) => (e.type === 'finding' ? [e.finding] : []));
    const { summary } = await ingestFixture('compliance');
    const results = findings.flatMap((f) => (f.compliance ? [f.compliance.result] : []));
    expect(summary.compliance).toEqual({
      passed: results.filter((r) => r === 'PASSED').length,
      failed: results.filter((r) => r === 'FAILED').length,
      warning: results.filter((r) => r === 'WARNING').length,
      error: results.filter((r) => r === 'ERROR').length,
      other: results.filter((r) => !['PASSED', 'FAILED', 'WARNING', 'ERROR'].includes(r ?? '')).length,
    });
    expect(summary.compliance?.failed).toBeGreaterThan(0);
    expect((await ingestFixture('local3')).summary.compliance).toBeUndefined();
  });

  it('reports failed authentication with its evidence and hints from a real export', async () => {
    const { summary } = await ingestFixture('local3');
    expect(summary.authentication_status).toBe('failed');
    expect(summary.authentication_evidence).toContainEqual(
      expect.objectContaining({ plugin_id: 21745, signal: 'failed', detail: '- Failed to authenticate using the supplied password.' }),
    );
    expect(summary.authentication_hints.length).toBeGreaterThan(0);
  });
});

describe('authentication status', () => {
  it('is success when every host logged in', async () => {
    const summary = await ingestSynthetic({ a: [scanInfo('yes'), { plugin_id: 141118 }], b: [scanInfo('yes (on the localhost)')] });
    expect(summary.authentication_status).toBe('success');
    expect(summary.authentication_hints).toEqual([]);
  });

  it('is partial when one host failed and another succeeded', async () => {
    expect(
      (await ingestSynthetic({ a: [scanInfo('yes')], b: [scanInfo('no'), { plugin_id: 104410, plugin_output: 'SSH: password rejected' }] }))
        .authentication_status,
    ).toBe('partial');
  });

  it('is partial when credentials worked without enough privilege', async () => {
    const summary = await ingestSynthetic({ a: [{ plugin_id: 141118 }, { plugin_id: 110385, plugin_output: 'Insufficient privilege on SSH' }] });
    expect(summary.authentication_status).toBe('partial');
    expect(summary.authentication_evidence).toContainEqual(
      expect.objectContaining({ plugin_id: 110385, signal: 'partial', detail: 'Insufficient privilege on SSH' }),
    );
  });

  it('is not_applicable for an uncredentialed scan, and failed when credentials were given but unused', async () => {
    const hosts = { a: [scanInfo('no')], b: [scanInfo('no')] };
    expect((await ingestSynthetic(hosts)).authentication_status).toBe('not_applicable');
    const credentialed = await ingestSynthetic(hosts, true);
    expect(credentialed.authentication_status).toBe('failed');
    expect(credentialed.authentication_hints.join(' ')).toContain('SSH');
  });
});
