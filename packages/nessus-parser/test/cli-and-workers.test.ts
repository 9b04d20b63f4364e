/**
 * The `nessus-parse` bin as users run it, and the worker-thread mode (which needs the compiled
 * worker, so it runs through the built bin: `npm run build` first, as `npm test` does).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type * as ParserModule from '../src/index.js';
import { autoWorkerCount } from '../src/parse-nessus.js';
import { collect, MALFORMED_SAMPLE, nessusXml, PACKAGE_DIR, sample, V1_SAMPLE, WELL_FORMED_SAMPLES } from './nessus-documents.js';

const run = promisify(execFile);
const BIN = join(PACKAGE_DIR, 'dist', 'bin.js');
const PYTHON_READER = join(PACKAGE_DIR, 'bench', 'cpython_reader.py');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function nessusParse(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { maxBuffer: 256 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const lines = (text: string): unknown[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npm run build -w @nessus-mcp/nessus-parser" first`);
});

describe('nessus-parse FILE', () => {
  it('prints one JSON object per ReportItem with the contract fields', async () => {
    const { code, stdout } = await nessusParse(sample('mitre_saf__nessus_sample.nessus'));
    expect(code).toBe(0);
    const findings = lines(stdout) as Array<Record<string, unknown>>;
    expect(findings).toHaveLength(420);
    for (const key of [
      'host',
      'host_ip',
      'host_fqdn',
      'port',
      'protocol',
      'svc_name',
      'plugin_id',
      'plugin_name',
      'plugin_family',
      'severity',
      'risk_factor',
      'cve',
    ]) {
      expect(findings[0]).toHaveProperty(key);
    }
    const results = findings.flatMap((f) => {
      const compliance = f.compliance as { result: string } | null;
      return compliance === null ? [] : [compliance.result];
    });
    expect(results.filter((r) => r === 'FAILED')).toHaveLength(333);
    expect(results.filter((r) => r === 'WARNING')).toHaveLength(6);
    expect(results.filter((r) => r === 'PASSED')).toHaveLength(42);
  });

  it('--summary prints host, finding and per-severity counts', async () => {
    const { code, stdout } = await nessusParse('--summary', sample('savon-noir_python-libnessus__nessus_report_local_3.nessus'));
    expect(code).toBe(0);
    expect(lines(stdout)).toEqual([{ hosts: 3, findings: 106, by_severity: { '0': 71, '1': 10, '2': 20, '3': 3, '4': 2 } }]);
  });

  it.each([
    [MALFORMED_SAMPLE, /^nessus-parse: .*example_v2\.nessus: line 1488: disallowed character in tag name\n$/],
    [V1_SAMPLE, /^nessus-parse: .*\.v1: line 2: legacy Nessus v1 export/],
    [sample('MANIFEST.md'), /^nessus-parse: .*MANIFEST\.md: line \d+: not a Nessus export/],
  ])('exits non-zero with a one-line reason for %s', async (file, message) => {
    const { code, stderr } = await nessusParse('--summary', file);
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 with usage for a missing argument', async () => {
    const { code, stderr } = await nessusParse();
    expect(code).toBe(2);
    expect(stderr).toContain('usage: nessus-parse');
  });
});

describe('agreement with a plain XML reading (CPython ElementTree)', () => {
  it.each(WELL_FORMED_SAMPLES)('%s: same host, port, protocol, plugin id, severity and CVEs per finding', async (name) => {
    const { stdout } = await run('python3', [PYTHON_READER, '--emit', sample(name)], { maxBuffer: 64 * 1024 * 1024 });
    const expected = lines(stdout);
    const { hosts, findings: count, by_severity } = expected.pop() as Record<string, unknown>;
    const { findings, summary: ours } = await collect(sample(name));
    expect(findings.map((f) => ({ host: f.host, port: f.port, protocol: f.protocol, plugin_id: f.plugin_id, severity: f.severity, cve: f.cve }))).toEqual(
      expected,
    );
    expect({ hosts: ours?.hosts, findings: ours?.findings, by_severity: ours?.by_severity }).toEqual({ hosts, findings: count, by_severity });
  });
});

describe('worker threads', () => {
  it('are used by default only for large files on machines with cores to spare', () => {
    expect(autoWorkerCount(1024 ** 3, 2)).toBe(0);
    expect(autoWorkerCount(1024 ** 3, 4)).toBe(2);
    expect(autoWorkerCount(1024 ** 3, 16)).toBe(3);
    expect(autoWorkerCount(1024 * 1024, 16)).toBe(0);
    expect(autoWorkerCount(null, 16)).toBe(0);
  });

  /** What `nessus-parse FILE` must print, from a parse on the test's own thread. */
  async function expectedOutcome(file: string): Promise<Outcome> {
    const { findings, error } = await collect(file);
    const stdout = findings.map((f) => `${JSON.stringify(f)}\n`).join('');
    if (error === null) return { code: 0, stdout, stderr: '' };
    return { code: 1, stdout, stderr: `nessus-parse: ${file}: ${(error as Error).message}\n` };
  }

  it.each([...WELL_FORMED_SAMPLES, 'djcas9_ruby-nessus__example_v2.nessus', 'savon-noir_python-libnessus__nessus_report_test_local.nessus.v1'])(
    '%s: identical output and errors with 2 workers and with none',
    async (name) => {
      const [expected, workers] = await Promise.all([expectedOutcome(sample(name)), nessusParse('--workers', '2', sample(name))]);
      expect(workers).toEqual(expected);
    },
  );

  it('delivers every finding to a consumer slower than the workers', async () => {
    // The worker mode needs the compiled worker script, hence the built entry point.
    const built = (await import(join(PACKAGE_DIR, 'dist', 'index.js'))) as typeof ParserModule;
    let findings = 0;
    let reported = -1;
    for await (const event of built.parseNessus(sample('mitre_saf__nessus_sample.nessus'), { workers: 2 })) {
      if (event.type === 'finding') {
        findings += 1;
        if (findings % 40 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      } else if (event.type === 'end') reported = event.summary.findings;
    }
    expect(findings).toBe(420);
    expect(reported).toBe(420);
  });

  it('splits correctly around comments, CDATA and duplicate hosts, and places late errors on the right line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nessus-parse-'));
    const hosts = Array.from({ length: 30 }, (_, i) => ({
      name: i % 3 === 0 ? 'dup' : `10.0.0.${i}`,
      properties: { 'host-ip': `10.0.0.${i}` },
      items: [{ raw: `<!-- </ReportHost> -->\n<plugin_output><![CDATA[</ReportHost>\n]]>日本 ${i}</plugin_output>` }, { attrs: { pluginID: String(i) } }],
    }));
    const good = join(dir, 'good.nessus');
    const xml = nessusXml(hosts);
    writeFileSync(good, xml);
    const bad = join(dir, 'bad.nessus');
    writeFileSync(bad, xml.replace('日本 20</plugin_output>', '日本 20</plugin_outpt>'));
    const badTail = join(dir, 'bad-tail.nessus');
    writeFileSync(badTail, xml.replace('</Report>', '</Report><stray'));
    for (const file of [good, bad, badTail]) {
      const [expected, workers] = await Promise.all([expectedOutcome(file), nessusParse('--workers', '2', file)]);
      expect(workers).toEqual(expected);
      if (file !== good) expect(expected.stderr).toMatch(/line \d+: /);
    }
    const { stdout } = await nessusParse('--workers', '2', good);
    expect(lines(stdout)).toHaveLength(60);
    const badRun = await nessusParse('--workers', '2', bad);
    const badLine = xml.split('\n').findIndex((line) => line.includes('日本 20</plugin_output>')) + 1;
    expect(badRun.stderr).toContain(`line ${badLine}: `);
    expect(lines(badRun.stdout)).toHaveLength(40);
  });
});
