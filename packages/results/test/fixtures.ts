import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNessus } from '@nessus-mcp/nessus-parser';
import type { Finding, ParseEvent } from '@nessus-mcp/nessus-parser';

/** Real exports, kept by the parser package with their attribution. */
export const FIXTURES_DIR = fileURLToPath(new URL('../../nessus-parser/test/fixtures/', import.meta.url));

export const FIXTURES = {
  /** 3 hosts, 106 items, password authentication failures (21745). */
  local3: 'savon-noir_python-libnessus__nessus_report_local_3.nessus',
  /** 1 host, 230 items, credentialed. */
  tenable: 'tenable_pyTenable__example.nessus',
  /** 1 host, 49 items with CVSS v3. */
  cvss3: 'DefectDojo_django-DefectDojo__nessus_with_cvssv3.nessus',
  /** 3 hosts, 420 items, 381 compliance results. */
  compliance: 'mitre_saf__nessus_sample.nessus',
} as const;

export type FixtureName = keyof typeof FIXTURES;

export function fixturePath(name: FixtureName): string {
  return join(FIXTURES_DIR, FIXTURES[name]);
}

/** Every event of a fixture, straight from the parser: the brute-force reference. */
export async function parseEvents(name: FixtureName): Promise<ParseEvent[]> {
  const events: ParseEvent[] = [];
  for await (const event of parseNessus(fixturePath(name), { workers: 0 })) events.push(event);
  return events;
}

export async function parseFindings(name: FixtureName): Promise<Finding[]> {
  return (await parseEvents(name)).flatMap((event) => (event.type === 'finding' ? [event.finding] : []));
}

/** A task directory holding a copy of the fixture as `report.nessus`, as the worker leaves it. */
export async function taskDirWith(name: FixtureName | null): Promise<{ taskDir: string; exportPath: string; cleanup: () => Promise<void> }> {
  const taskDir = await mkdtemp(join(tmpdir(), 'results-test-'));
  const exportPath = join(taskDir, 'report.nessus');
  if (name) await copyFile(fixturePath(name), exportPath);
  return { taskDir, exportPath, cleanup: () => rm(taskDir, { recursive: true, force: true }) };
}

export const TASK = {
  task_id: 'ne_scan_20251201_143022_a1b2c3d4',
  scan_name: 'fixture scan',
  scan_type: 'trusted',
  targets: ['192.168.2.0/24'],
  started_at: '2025-12-01T14:30:22Z',
  completed_at: '2025-12-01T15:02:10Z',
};
