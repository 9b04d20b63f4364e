import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LoginThrottle } from '../src/auth/login-throttle.js';
import { TOKEN, http, startTestGateway, type TestGateway } from './support/test-gateway.js';

/** A GET from a chosen loopback source address (127.0.0.0/8 is all local on Linux). */
function getFrom(base: string, localAddress: string, path: string, token?: string): Promise<{ status: number; retryAfter: string | undefined }> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'GET', localAddress, headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('failed logins', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ loginThrottle: { burst: 3, refillSeconds: 60 } });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('blocks the guessing address, right token included, while other addresses keep working at full speed', async () => {
    const attacker = '127.0.0.2';
    for (let i = 0; i < 3; i += 1) expect((await getFrom(gw.url, attacker, '/api/v1/tasks', `wrong-token-${i}-aaaaaaaaaaaa`)).status).toBe(401);
    const blocked = await getFrom(gw.url, attacker, '/api/v1/tasks', TOKEN);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.retryAfter)).toBeGreaterThan(0);
    for (let i = 0; i < 20; i += 1) expect((await getFrom(gw.url, '127.0.0.1', '/api/v1/tasks', TOKEN)).status).toBe(200);
  });

  it('does not count requests without credentials (a browser before its login prompt)', async () => {
    for (let i = 0; i < 10; i += 1) expect((await getFrom(gw.url, '127.0.0.3', '/api/v1/tasks')).status).toBe(401);
    expect((await getFrom(gw.url, '127.0.0.3', '/api/v1/tasks', TOKEN)).status).toBe(200);
  });

  it('never counts successes, so a busy real client is never blocked', async () => {
    for (let i = 0; i < 30; i += 1) expect((await http(gw.url, 'GET', '/api/v1/tasks', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });
});

describe('LoginThrottle', () => {
  it('gives a blocked address one try back per refill period, then blocks it again after a failure', () => {
    const throttle = new LoginThrottle(2, 60);
    const t0 = 1_000_000;
    expect(throttle.recordFailure('a', t0)).toBe(0);
    expect(throttle.recordFailure('a', t0)).toBe(60);
    expect(throttle.blockedFor('a', t0 + 30_000)).toBe(30);
    expect(throttle.blockedFor('b', t0)).toBe(0);
    expect(throttle.blockedFor('a', t0 + 60_000)).toBe(0);
    expect(throttle.recordFailure('a', t0 + 60_000)).toBe(60);
  });
});
