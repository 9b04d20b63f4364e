import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNessus } from '@nessus-mcp/nessus-parser';
import type { Finding, ParseEvent } from '@nessus-mcp/nessus-parser';
import { LocalTaskFiles } from '../src/task-files.js';

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

export interface FixtureTask {
  files: LocalTaskFiles;
  taskId: string;
  /** Where the local layout puts the task's files and its store, for tests that look at them. */
  taskDir: string;
  storeDir: string;
  cleanup: () => Promise<void>;
}

/** A task in a fresh data directory whose export is a copy of the fixture, as the worker leaves it. */
export async function taskDirWith(name: FixtureName | null): Promise<FixtureTask> {
  const dataDir = await mkdtemp(join(tmpdir(), 'results-test-'));
  const files = new LocalTaskFiles(dataDir);
  const taskId = `ne_scan_20251201_143022_${randomBytes(4).toString('hex')}`;
  const taskDir = join(dataDir, 'tasks', taskId);
  await mkdir(taskDir, { recursive: true });
  if (name) await files.writeExport(taskId, (staging) => copyFile(fixturePath(name), staging));
  return { files, taskId, taskDir, storeDir: await files.resultStoreDirectory(taskId), cleanup: () => rm(dataDir, { recursive: true, force: true }) };
}

export const TASK = {
  task_id: 'ne_scan_20251201_143022_a1b2c3d4',
  scan_name: 'fixture scan',
  scan_type: 'trusted',
  targets: ['192.168.2.0/24'],
  started_at: '2025-12-01T14:30:22Z',
  completed_at: '2025-12-01T15:02:10Z',
};
