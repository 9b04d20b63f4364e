import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Harness } from './sim-harness.js';
import { ADVANCED_UUID, startHarness } from './sim-harness.js';

interface Details {
  info: { status: string; hostcount: number; targets: string; uuid: string | null; scan_start: number | null; scan_end: number | null };
  hosts: { hostname: string; scanprogresscurrent: number; scanprogresstotal: number; critical: number; info: number }[];
  history: { history_id: number; status: string; uuid: string }[];
  vulnerabilities: { plugin_id: number; count: number }[];
}

describe('scan lifecycle', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.sim.close();
  });
  beforeEach(() => {
    h.sim.reset();
  });
  const details = async (id: number): Promise<Details> => (await h.call('GET', `/scans/${id}`)).json as Details;
  const post = async (path: string): Promise<number> => (await h.call('POST', path)).status;

  it('lists templates by name with 52-character UUIDs', async () => {
    const answer = await h.call('GET', '/editor/scan/templates');
    const templates = (answer.json as { templates: { name: string; uuid: string }[] }).templates;
    expect(templates.map((template) => template.name)).toEqual(expect.arrayContaining(['basic', 'advanced', 'discovery']));
    for (const template of templates) expect(template.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{28}$/);
    expect(templates.find((template) => template.name === 'advanced')?.uuid).toBe(ADVANCED_UUID);
  });

  it('answers scans: null while there are none, with the stock folders', async () => {
    const answer = await h.call('GET', '/scans');
    expect(answer.json).toMatchObject({
      scans: null,
      folders: [
        { id: 2, type: 'trash', name: 'Trash' },
        { id: 3, type: 'main', name: 'My Scans' },
      ],
    });
    expect((await h.call('GET', '/policies')).json).toEqual({ policies: null });
    expect((await h.call('GET', '/scanners')).json).toMatchObject({ scanners: [{ id: 1, type: 'local', status: 'on' }] });
  });

  it('refuses a create without template uuid, name or targets with 400', async () => {
    const missingUuid = await h.call('POST', '/scans', { settings: { name: 'a', text_targets: '10.0.0.1' } });
    expect(missingUuid.status).toBe(400);
    expect(missingUuid.json).toEqual({ error: expect.stringContaining('uuid') });
    const missingName = await h.call('POST', '/scans', { uuid: ADVANCED_UUID, settings: { text_targets: '10.0.0.1' } });
    expect(missingName.status).toBe(400);
    expect(missingName.json).toEqual({ error: expect.stringContaining('settings.name') });
    const badTargets = await h.call('POST', '/scans', { uuid: ADVANCED_UUID, settings: { name: 'a', text_targets: '10.0.0.999' } });
    expect(badTargets.status).toBe(400);
    expect(badTargets.json).toEqual({ error: expect.stringContaining("'10.0.0.999'") });
    const unknownTemplate = await h.call('POST', '/scans', { uuid: 'nope', settings: { name: 'a', text_targets: '10.0.0.1' } });
    expect(unknownTemplate.status).toBe(400);
    const notJson = await h.call('POST', '/scans', undefined, { 'Content-Type': 'application/json' });
    expect(notJson.status).toBe(400);
    expect(h.sim.stats().scans_created).toBe(0);
  });

  it('creates a scan in a folder, lists it as empty and filters by folder', async () => {
    const folder = await h.call('POST', '/folders', { name: 'nessus-mcp' });
    const folderId = (folder.json as { id: number }).id;
    const created = await h.call('POST', '/scans', {
      uuid: ADVANCED_UUID,
      settings: { name: 'task-1', text_targets: '10.0.0.1', folder_id: folderId },
    });
    expect(created.json).toMatchObject({ scan: { name: 'task-1', folder_id: folderId, owner: 'admin' } });
    const inFolder = await h.call('GET', `/scans?folder_id=${folderId}`);
    expect(inFolder.json).toMatchObject({ scans: [{ name: 'task-1', status: 'empty', folder_id: folderId }] });
    expect((await h.call('GET', '/scans?folder_id=3')).json).toMatchObject({ scans: null });
    expect((await h.call('POST', '/folders', { name: 'nessus-mcp' })).status).toBe(400);
  });

  it('walks pending → running → completed with per-host progress that only grows', async () => {
    const id = await h.createScan({ text_targets: '10.0.0.1-4' });
    expect((await details(id)).info.status).toBe('empty');
    const launch = await h.call('POST', `/scans/${id}/launch`);
    expect(launch.json).toEqual({ scan_uuid: expect.stringMatching(/^[0-9a-f-]{52}$/) });
    expect((await details(id)).info.status).toBe('pending');
    // Nessus 6 /api docs: a launch of a running scan is a 500, not a 409.
    const again = await h.call('POST', `/scans/${id}/launch`);
    expect(again.status).toBe(500);
    expect(again.json).toEqual({ error: 'Failed to launch scan. This is usually due to the scan already running.' });
    let previous = -1;
    const seen = new Set<string>();
    for (let step = 0; step < 12; step += 1) {
      h.advance(1000);
      const now = await details(id);
      seen.add(now.info.status);
      const total = now.hosts.reduce((sum, host) => sum + host.scanprogresstotal, 0);
      const current = now.hosts.reduce((sum, host) => sum + host.scanprogresscurrent, 0);
      const progress = total === 0 ? 0 : current / (4 * 100);
      expect(progress).toBeGreaterThanOrEqual(previous);
      previous = progress;
    }
    expect([...seen]).toEqual(expect.arrayContaining(['running', 'completed']));
    const done = await details(id);
    expect(done.info).toMatchObject({ status: 'completed', hostcount: 4 });
    expect(done.info.scan_end).not.toBeNull();
    expect(done.hosts.map((host) => host.hostname)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
    expect(done.hosts.every((host) => host.scanprogresscurrent === host.scanprogresstotal)).toBe(true);
    expect(done.vulnerabilities.length).toBeGreaterThan(10);
    expect(done.history).toEqual([expect.objectContaining({ status: 'completed' })]);
  });

  it('pauses, resumes and stops only from the states that allow it', async () => {
    const id = await h.createScan({ text_targets: '10.0.0.1' });
    expect(await post(`/scans/${id}/stop`)).toBe(409);
    await post(`/scans/${id}/launch`);
    h.advance(2000);
    expect((await details(id)).info.status).toBe('running');
    expect(await post(`/scans/${id}/resume`)).toBe(409);
    const paused = await h.call('POST', `/scans/${id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.text).toBe('');
    expect((await details(id)).info.status).toBe('pausing');
    h.advance(1000);
    expect((await details(id)).info.status).toBe('paused');
    expect(await post(`/scans/${id}/pause`)).toBe(409);
    // A paused scan can be neither stopped (Tenable's scans-stop: 409) nor deleted (500).
    expect(await post(`/scans/${id}/stop`)).toBe(409);
    expect((await h.call('DELETE', `/scans/${id}`)).status).toBe(500);
    h.advance(60_000);
    expect((await details(id)).info.status).toBe('paused');
    expect(await post(`/scans/${id}/resume`)).toBe(200);
    expect((await details(id)).info.status).toBe('resuming');
    h.advance(1000);
    expect((await details(id)).info.status).toBe('running');
    const refused = await h.call('DELETE', `/scans/${id}`);
    expect(refused.status).toBe(500);
    expect(refused.json).toEqual({ error: 'Failed to delete the scan. This may be because the scan is currently running' });
    expect(await post(`/scans/${id}/stop`)).toBe(200);
    expect((await details(id)).info.status).toBe('stopping');
    expect(await post(`/scans/${id}/stop`)).toBe(409);
    h.advance(1000);
    expect((await details(id)).info.status).toBe('canceled');
    expect(await post(`/scans/${id}/stop`)).toBe(409);
  });

  it('ends a scan aborted under scan_outcome aborted, and relaunches with a new history entry', async () => {
    h.sim.setFaults({ scan_outcome: 'aborted' });
    const id = await h.createScan({ text_targets: '10.0.0.1' });
    await post(`/scans/${id}/launch`);
    expect(await h.runToEnd(id)).toBe('aborted');
    h.sim.setFaults({ scan_outcome: 'completed' });
    expect(await post(`/scans/${id}/launch`)).toBe(200);
    expect(await h.runToEnd(id)).toBe('completed');
    const history = (await details(id)).history;
    expect(history.map((run) => run.status)).toEqual(['aborted', 'completed']);
    expect(new Set(history.map((run) => run.uuid)).size).toBe(2);
    const first = history[0]?.history_id;
    expect((await h.call('GET', `/scans/${id}?history_id=${first}`)).json).toMatchObject({ info: { status: 'aborted' } });
  });

  it('scans for exactly scan_seconds of running time', async () => {
    h.sim.setFaults({ scan_seconds: 30 });
    const id = await h.createScan({ text_targets: '10.0.0.1' });
    await post(`/scans/${id}/launch`);
    h.advance(1000 + 29_000);
    expect((await details(id)).info.status).toBe('running');
    h.advance(1000);
    expect((await details(id)).info.status).toBe('completed');
  });

  it('kills a running scan at once', async () => {
    const id = await h.createScan({ text_targets: '10.0.0.1' });
    await post(`/scans/${id}/launch`);
    h.advance(2000);
    expect(await post(`/scans/${id}/kill`)).toBe(200);
    expect((await details(id)).info.status).toBe('canceled');
  });

  it('moves a scan between folders and deletes it once it is not running', async () => {
    const id = await h.createScan({ text_targets: '10.0.0.1' });
    expect((await h.call('PUT', `/scans/${id}/folder`, { folder_id: 2 })).status).toBe(200);
    expect((await h.call('GET', '/scans?folder_id=2')).json).toMatchObject({ scans: [{ id }] });
    expect((await h.call('PUT', `/scans/${id}/folder`, { folder_id: 99 })).status).toBe(404);
    expect((await h.call('DELETE', `/scans/${id}`)).status).toBe(200);
    expect((await h.call('GET', `/scans/${id}`)).status).toBe(404);
    expect((await h.call('DELETE', `/scans/${id}`)).status).toBe(404);
  });

  it('counts creates, launches, stops and deletes per scan name in /_sim/stats', async () => {
    const a = await h.createScan({ name: 'task-a', text_targets: '10.0.0.1' });
    const b = await h.createScan({ name: 'task-b', text_targets: '10.0.0.2' });
    await post(`/scans/${a}/launch`);
    await post(`/scans/${a}/launch`);
    h.advance(2000);
    await post(`/scans/${a}/stop`);
    await post(`/scans/${b}/stop`);
    h.advance(2000);
    await h.call('DELETE', `/scans/${a}`);
    const stats = await (await fetch(`${h.sim.url}/_sim/stats`)).json();
    expect(stats).toEqual({
      scans_created: 2,
      launches: 1,
      stops: 1,
      deletes: 1,
      by_name: {
        'task-a': { created: 1, launched: 1, stopped: 1 },
        'task-b': { created: 1, launched: 0, stopped: 0 },
      },
    });
  });

  it('caps a scan at 4096 hosts', async () => {
    const id = await h.createScan({ text_targets: '10.0.0.0/16' });
    await post(`/scans/${id}/launch`);
    expect((await details(id)).info.hostcount).toBe(4096);
  });

  it('answers unknown routes with 404 and wrong verbs with 405, both as JSON errors', async () => {
    const unknown = await h.call('GET', '/no/such/thing');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: expect.any(String) });
    const wrongVerb = await h.call('PATCH', '/scans');
    expect(wrongVerb.status).toBe(405);
    expect(wrongVerb.json).toEqual({ error: 'The requested method is not allowed for this URL' });
    expect(wrongVerb.headers.get('allow')).toContain('GET');
    expect((await h.call('GET', '/scans/12345')).status).toBe(404);
  });
});
