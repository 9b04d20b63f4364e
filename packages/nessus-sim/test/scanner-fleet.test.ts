import { afterEach, describe, expect, it } from '@jest/globals';
import { parseCliOptions } from '../src/cli-options.js';
import { validateFaultPatch } from '../src/faults.js';
import type { RunningSimulator, RunsReport } from '../src/index.js';
import { startSimulators } from '../src/index.js';
import { ADVANCED_UUID, API_KEYS } from './sim-harness.js';

let fleet: RunningSimulator[] = [];

afterEach(async () => {
  await Promise.all(fleet.map((sim) => sim.close()));
  fleet = [];
});

async function call(sim: RunningSimulator, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers: { 'X-ApiKeys': API_KEYS, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

async function createScan(sim: RunningSimulator, name: string): Promise<number> {
  const answer = await call(sim, 'POST', '/scans', { uuid: ADVANCED_UUID, settings: { name, text_targets: '10.0.0.1' } });
  expect(answer.status).toBe(200);
  return (answer.json as { scan: { id: number } }).scan.id;
}

describe('a fleet of simulated scanners', () => {
  it('serves independent instances on their own ports, each holding its own concurrent-scan limit', async () => {
    let now = Date.UTC(2026, 0, 15, 12, 0, 0);
    fleet = await startSimulators(2, { port: 0, logLevel: 'silent', clock: () => now, faults: { scan_seconds: 10, max_concurrent_scans: 2 } });
    const [small, large] = fleet as [RunningSimulator, RunningSimulator];
    expect(small.port).not.toBe(large.port);
    large.setFaults({ max_concurrent_scans: 3 });

    const onSmall = [await createScan(small, 'a'), await createScan(small, 'b'), await createScan(small, 'c')];
    const onLarge = [await createScan(large, 'a'), await createScan(large, 'b'), await createScan(large, 'c')];
    expect((await call(small, 'POST', `/scans/${onSmall[0]}/launch`)).status).toBe(200);
    expect((await call(small, 'POST', `/scans/${onSmall[1]}/launch`)).status).toBe(200);
    const refused = await call(small, 'POST', `/scans/${onSmall[2]}/launch`);
    expect(refused).toEqual({ status: 500, json: { error: expect.stringContaining('maximum number of concurrent scans') } });
    // The other instance has its own scans and its own, larger limit.
    for (const id of onLarge) expect((await call(large, 'POST', `/scans/${id}/launch`)).status).toBe(200);

    now += 12_000;
    expect((await call(small, 'POST', `/scans/${onSmall[2]}/launch`)).status).toBe(200);
    const report = (await (await fetch(`${small.url}/_sim/runs`)).json()) as RunsReport;
    expect(report).toMatchObject({ active: 1, peak_active: 2, refused_launches: 1 });
    const ended = report.runs.filter((run) => run.status === 'completed');
    expect(ended.map((run) => run.name).sort()).toEqual(['a', 'b']);
    // 10 s of running after the pending phase (10 % of the scan time, at most 1 s).
    for (const run of ended) expect(run.ended_at_ms).toBe(run.launched_at_ms + 11_000);
    expect(large.runs()).toMatchObject({ active: 0, peak_active: 3, refused_launches: 0 });
  });

  it('takes consecutive ports from a fixed base port', async () => {
    const probe = await startSimulators(1, { port: 0, logLevel: 'silent' });
    const base = probe[0]!.port;
    await probe[0]!.close();
    fleet = await startSimulators(3, { port: base, logLevel: 'silent' });
    expect(fleet.map((sim) => sim.port)).toEqual([base, base + 1, base + 2]);
  });

  it('reads the fleet size and the limit from the command line, and refuses bad values', () => {
    expect(parseCliOptions(['--instances', '50', '--port', '0', '--max-concurrent-scans', '10'], {})).toMatchObject({
      instances: 50,
      options: { port: 0, faults: { max_concurrent_scans: 10 } },
    });
    expect(() => parseCliOptions(['--instances', '0'], {})).toThrow('--instances must be 1-1000');
    expect(() => parseCliOptions(['--instances', '10', '--port', '65530'], {})).toThrow('no room for 10 instances');
    expect(() => validateFaultPatch({ max_concurrent_scans: 0 })).toThrow('max_concurrent_scans must be an integer >= 1, or null');
    expect(validateFaultPatch({ max_concurrent_scans: null })).toEqual({ max_concurrent_scans: null });
  });
});
