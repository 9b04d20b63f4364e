import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Harness } from './sim-harness.js';
import { startHarness } from './sim-harness.js';

describe('authentication', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ faults: { session_ttl_s: 60 } });
  });
  afterAll(async () => {
    await h.sim.close();
  });

  it.each([
    'accessKey=sim-access-key; secretKey=sim-secret-key;',
    'accessKey=sim-access-key; secretKey=sim-secret-key',
    'accessKey=sim-access-key;secretKey=sim-secret-key;',
    'ACCESSKEY=sim-access-key ; SecretKey=sim-secret-key',
  ])('accepts the X-ApiKeys spelling %p', async (header) => {
    const answer = await h.call('GET', '/folders', undefined, { 'x-apikeys': header });
    expect(answer.status).toBe(200);
  });

  it('refuses wrong API keys with 401 Invalid Credentials', async () => {
    const answer = await h.call('GET', '/folders', undefined, { 'X-ApiKeys': 'accessKey=sim-access-key; secretKey=nope;' });
    expect(answer.status).toBe(401);
    expect(answer.json).toEqual({ error: 'Invalid Credentials' });
  });

  it('asks for a login when no credentials are sent', async () => {
    const response = await fetch(`${h.sim.url}/scans`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'You need to log in to perform this request' });
  });

  it('serves /server/status and /server/properties without auth', async () => {
    const status = await fetch(`${h.sim.url}/server/status`);
    expect(await status.json()).toMatchObject({ code: 200, status: 'ready' });
    const properties = (await (await fetch(`${h.sim.url}/server/properties`)).json()) as {
      license: { features: { scan_api: boolean } };
      features: { scan_api: boolean };
    };
    expect(properties.license.features.scan_api).toBe(true);
    expect(properties.features.scan_api).toBe(true);
  });

  it('logs in with POST /session, uses X-Cookie, reads GET /session and logs out', async () => {
    const login = await h.call('POST', '/session', { username: 'admin', password: 'sim-admin-password' }, { 'X-ApiKeys': '' });
    expect(login.status).toBe(200);
    const { token } = login.json as { token: string };
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    const cookie = { 'X-Cookie': `token=${token}` };
    const noKeys = async (method: string, path: string): Promise<number> => (await fetch(`${h.sim.url}${path}`, { method, headers: cookie })).status;
    const me = await fetch(`${h.sim.url}/session`, { headers: cookie });
    expect(await me.json()).toMatchObject({ username: 'admin', permissions: 128 });
    expect(await noKeys('GET', '/scans')).toBe(200);
    expect(await noKeys('DELETE', '/session')).toBe(200);
    expect(await noKeys('GET', '/scans')).toBe(401);
  });

  it('refuses a wrong password with 401 Invalid Credentials', async () => {
    const login = await fetch(`${h.sim.url}/session`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'wrong' }),
    });
    expect(login.status).toBe(401);
    expect(await login.json()).toEqual({ error: 'Invalid Credentials' });
  });

  it('expires a session left idle longer than session_ttl_s, and keeps a used one alive', async () => {
    const login = await fetch(`${h.sim.url}/session`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'sim-admin-password' }),
    });
    const { token } = (await login.json()) as { token: string };
    const get = async (): Promise<Response> => fetch(`${h.sim.url}/scans`, { headers: { 'X-Cookie': `token=${token}` } });
    h.advance(50_000);
    expect((await get()).status).toBe(200);
    h.advance(50_000);
    expect((await get()).status).toBe(200);
    h.advance(61_000);
    const expired = await get();
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({ error: 'Invalid Credentials' });
    h.advance(-161_000);
    expect((await get()).status).toBe(401);
  });

  it('takes credentials from options', async () => {
    const other = await startHarness({ credentials: { accessKey: 'a', secretKey: 'b' } });
    try {
      expect((await other.call('GET', '/folders', undefined, { 'X-ApiKeys': 'accessKey=a; secretKey=b' })).status).toBe(200);
      expect((await other.call('GET', '/folders')).status).toBe(401);
    } finally {
      await other.sim.close();
    }
  });
});
