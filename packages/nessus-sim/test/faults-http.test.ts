import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Harness } from './sim-harness.js';
import { ADVANCED_UUID, rawRequest, startHarness } from './sim-harness.js';

const CREATE_BODY = JSON.stringify({ uuid: ADVANCED_UUID, settings: { name: 'gated', text_targets: '10.0.0.1' } });

describe('fault modes', () => {
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

  const putFaults = async (body: unknown): Promise<{ status: number; json: unknown }> => {
    const response = await fetch(`${h.sim.url}/_sim/faults`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  };

  it('licence_412 clean: 412, Connection: close, Content-Length 32 and the exact JSON body', async () => {
    await putFaults({ licence_412: 'clean' });
    const answer = await rawRequest(h.sim, 'POST', '/scans', CREATE_BODY);
    expect(answer.statusLine).toBe('412');
    expect(answer.head).toContain('content-length: 32');
    expect(answer.head).toContain('connection: close');
    expect(answer.body.toString()).toBe('{"error":"API is not available"}');
    expect(answer.ending).toBe('end');
  });

  it('licence_412 drop: the 412 headers promise 32 bytes, then the socket closes before any', async () => {
    await putFaults({ licence_412: 'drop' });
    const answer = await rawRequest(h.sim, 'POST', '/scans', CREATE_BODY);
    expect(answer.statusLine).toBe('412');
    expect(answer.head).toContain('content-length: 32');
    expect(answer.body.length).toBe(0);
    expect(answer.ending).not.toBe('end');
  });

  it('licence_412 reset: the connection closes before any status line, and /server/properties says scan_api false', async () => {
    await putFaults({ licence_412: 'reset' });
    const answer = await rawRequest(h.sim, 'POST', '/scans', CREATE_BODY);
    expect(answer.statusLine).toBe('');
    expect(answer.ending).toMatch(/ECONNRESET|socket hang up/);
    const properties = (await h.call('GET', '/server/properties')).json as { features: { scan_api: boolean } };
    expect(properties.features.scan_api).toBe(false);
  });

  it('server_loading: /server/status answers 503 loading with its progress, the rest of the API 503', async () => {
    await putFaults({ server_loading: 40 });
    const status = await fetch(`${h.sim.url}/server/status`);
    expect(status.status).toBe(503);
    expect(await status.json()).toMatchObject({ status: 'loading', progress: 40 });
    expect((await h.call('GET', '/scans')).status).toBe(503);
    await putFaults({ server_loading: null });
    expect((await fetch(`${h.sim.url}/server/status`)).status).toBe(200);
  });

  it('running_status: a running scan reports the given word, other states their own', async () => {
    const id = await h.createScan({ text_targets: '10.0.0.1' });
    h.sim.setFaults({ running_status: 'publishing' });
    await h.call('POST', `/scans/${id}/launch`);
    h.advance(2000);
    expect(((await h.call('GET', `/scans/${id}`)).json as { info: { status: string } }).info.status).toBe('publishing');
    expect(await h.runToEnd(id)).toBe('completed');
    expect((await putFaults({ running_status: 'Not A Word' })).status).toBe(400);
  });

  it('session_refusal: too_many_users answers POST /session 500 with the documented text, locked a 403', async () => {
    const login = { username: 'admin', password: 'sim-admin-password' };
    h.sim.setFaults({ session_refusal: 'too_many_users' });
    expect(await h.call('POST', '/session', login)).toMatchObject({ status: 500, json: { error: 'Too many users are connected' } });
    h.sim.setFaults({ session_refusal: 'locked' });
    expect(await h.call('POST', '/session', login)).toMatchObject({ status: 403, json: { error: expect.stringContaining('locked') } });
    h.sim.setFaults({ session_refusal: null });
    expect((await h.call('POST', '/session', login)).status).toBe(200);
  });

  it('licence_412 empty: 412 with an empty body', async () => {
    await putFaults({ licence_412: 'empty' });
    const answer = await rawRequest(h.sim, 'POST', '/scans', CREATE_BODY);
    expect(answer.statusLine).toBe('412');
    expect(answer.body.length).toBe(0);
    expect(answer.ending).toBe('end');
  });

  it('licence_412 gates exactly the scan-control endpoints and shows in /server/properties', async () => {
    const id = await h.createScan({ text_targets: '10.0.0.1' });
    await h.call('POST', `/scans/${id}/launch`);
    await h.runToEnd(id);
    h.sim.setFaults({ licence_412: 'clean' });
    const gated: [string, string][] = [
      ['POST', '/scans'],
      ['PUT', `/scans/${id}`],
      ['POST', `/scans/${id}/launch`],
      ['POST', `/scans/${id}/stop`],
      ['POST', `/scans/${id}/pause`],
      ['POST', `/scans/${id}/resume`],
      ['DELETE', `/scans/${id}`],
      ['POST', `/scans/${id}/copy`],
    ];
    for (const [method, path] of gated) {
      const answer = await h.call(method, path, method === 'DELETE' ? undefined : {});
      expect([method, path, answer.status]).toEqual([method, path, 412]);
    }
    for (const path of ['/scans', `/scans/${id}`, '/editor/scan/templates', '/folders', '/policies']) {
      expect([path, (await h.call('GET', path)).status]).toEqual([path, 200]);
    }
    expect((await h.call('POST', `/scans/${id}/export`, { format: 'nessus' })).status).toBe(200);
    const properties = (await h.call('GET', '/server/properties')).json as {
      license: { type: string; features: { scan_api: boolean } };
    };
    expect(properties.license).toMatchObject({ type: 'home', features: { scan_api: false } });
    expect(h.sim.stats().launches).toBe(1);
  });

  it('checks credentials before the licence: a bad key still gets 401', async () => {
    h.sim.setFaults({ licence_412: 'clean' });
    const answer = await h.call('POST', '/scans', {}, { 'X-ApiKeys': 'accessKey=x; secretKey=y' });
    expect(answer.status).toBe(401);
  });

  it('error_rate 1 answers every API call with a 500 or 503 JSON error, and 0 answers none', async () => {
    h.sim.setFaults({ error_rate: 1 });
    const statuses = new Set<number>();
    for (let call = 0; call < 20; call += 1) {
      const answer = await h.call('GET', '/scans');
      statuses.add(answer.status);
      expect(answer.json).toEqual({ error: expect.any(String) });
    }
    expect([...statuses].every((status) => status === 500 || status === 503)).toBe(true);
    expect((await fetch(`${h.sim.url}/_sim/stats`)).status).toBe(200);
    h.sim.setFaults({ error_rate: 0 });
    for (let call = 0; call < 20; call += 1) expect((await h.call('GET', '/scans')).status).toBe(200);
  });

  it('error_rate picks failures with the injected random source', async () => {
    const draws = [0.1, 0.9, 0.7, 0.2];
    let index = 0;
    const seeded = await startHarness({ random: () => draws[index++ % draws.length] ?? 0, faults: { error_rate: 0.5 } });
    try {
      // 0.1 < 0.5 fails (then 0.9 picks 503); 0.7 passes; 0.2 fails (then 0.1 picks 500).
      expect((await seeded.call('GET', '/folders')).status).toBe(503);
      expect((await seeded.call('GET', '/folders')).status).toBe(200);
      expect((await seeded.call('GET', '/folders')).status).toBe(500);
    } finally {
      await seeded.sim.close();
    }
  });

  it('latency_ms holds every API answer back by at least that long', async () => {
    h.sim.setFaults({ latency_ms: 150 });
    const started = performance.now();
    expect((await h.call('GET', '/folders')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('PUT /_sim/faults applies a partial update and GET shows every key', async () => {
    const answer = await putFaults({ export_mode: 'stuck', scan_seconds: 2 });
    expect(answer.status).toBe(200);
    const faults = await (await fetch(`${h.sim.url}/_sim/faults`)).json();
    expect(faults).toEqual({
      licence_412: null,
      error_rate: 0,
      latency_ms: 0,
      session_ttl_s: 1800,
      export_mode: 'stuck',
      scan_outcome: 'completed',
      scan_seconds: 2,
      download_mode: 'ok',
      server_loading: null,
      running_status: null,
      session_refusal: null,
      drift: 0,
      max_concurrent_scans: null,
    });
    expect(h.sim.faults.export_mode).toBe('stuck');
  });

  it('PUT /_sim/faults refuses unknown keys and bad values with 400 and changes nothing', async () => {
    const unknown = await putFaults({ licence_412: 'drop', surprise: 1 });
    expect(unknown.status).toBe(400);
    expect(unknown.json).toEqual({ error: expect.stringContaining("unknown fault key 'surprise'") });
    const bad = await putFaults({ export_mode: 'maybe' });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ error: expect.stringContaining('export_mode must be one of') });
    const notJson = await fetch(`${h.sim.url}/_sim/faults`, { method: 'PUT', body: '{' });
    expect(notJson.status).toBe(400);
    expect(h.sim.faults.licence_412).toBeNull();
    expect(() => h.sim.setFaults({ error_rate: 2 } as never)).toThrow('error_rate');
  });

  it('POST /_sim/reset forgets scans and counters and restores the start-up faults', async () => {
    await h.createScan({ text_targets: '10.0.0.1' });
    h.sim.setFaults({ licence_412: 'drop' });
    const reset = await fetch(`${h.sim.url}/_sim/reset`, { method: 'POST' });
    expect(reset.status).toBe(200);
    expect(h.sim.stats().scans_created).toBe(0);
    expect(h.sim.faults.licence_412).toBeNull();
    expect((await h.call('GET', '/scans')).json).toMatchObject({ scans: null });
  });

  it('answers wrong verbs and unknown paths on the control surface with JSON errors', async () => {
    const wrongVerb = await fetch(`${h.sim.url}/_sim/stats`, { method: 'DELETE' });
    expect(wrongVerb.status).toBe(405);
    expect(await wrongVerb.json()).toEqual({ error: expect.any(String) });
    expect((await fetch(`${h.sim.url}/_sim/nope`)).status).toBe(404);
  });
});
