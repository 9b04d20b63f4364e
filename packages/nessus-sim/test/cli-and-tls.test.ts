import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { get } from 'node:https';
import { CLI_USAGE, parseCliOptions } from '../src/cli-options.js';
import { startSimulator } from '../src/index.js';

describe('nessus-sim command line', () => {
  it('defaults to 127.0.0.1:8834 with no faults set', () => {
    expect(parseCliOptions([], {})).toEqual({
      help: false,
      options: { port: 8834, host: '127.0.0.1', faults: {}, logLevel: 'info', credentials: {}, validSsh: {} },
    });
  });

  it('reads the port and credentials from the environment, flags winning', () => {
    const env = { NESSUS_SIM_PORT: '9999', NESSUS_SIM_ACCESS_KEY: 'ak', NESSUS_SIM_PASSWORD: 'pw', NESSUS_SIM_SSH_USERNAME: 'ops' };
    const parsed = parseCliOptions(['--access-key', 'flag-ak'], env);
    expect(parsed).toMatchObject({
      options: { port: 9999, credentials: { accessKey: 'flag-ak', password: 'pw' }, validSsh: { username: 'ops' } },
    });
  });

  it("reads the port the targets' SSH listens on from --ssh-port or NESSUS_SIM_SSH_PORT", () => {
    expect(parseCliOptions(['--ssh-port', '2222'], {})).toMatchObject({ options: { validSsh: { port: 2222 } } });
    expect(parseCliOptions([], { NESSUS_SIM_SSH_PORT: '2200' })).toMatchObject({ options: { validSsh: { port: 2200 } } });
    expect(() => parseCliOptions(['--ssh-port', '0'], {})).toThrow('--ssh-port must be 1-65535');
  });

  it('turns fault flags into a validated fault patch', () => {
    const parsed = parseCliOptions(
      [
        '--scan-seconds',
        '2',
        '--licence-412',
        'drop',
        '--error-rate',
        '0.1',
        '--latency-ms',
        '20',
        '--session-ttl-s',
        '5',
        '--export-mode',
        'stuck',
        '--scan-outcome',
        'aborted',
        '--download-mode',
        'slow',
      ],
      {},
    );
    expect(parsed).toMatchObject({
      options: {
        faults: {
          scan_seconds: 2,
          licence_412: 'drop',
          error_rate: 0.1,
          latency_ms: 20,
          session_ttl_s: 5,
          export_mode: 'stuck',
          scan_outcome: 'aborted',
          download_mode: 'slow',
        },
      },
    });
    expect(parseCliOptions(['--licence-412', 'off'], {})).toMatchObject({ options: { faults: { licence_412: null } } });
  });

  it('explains bad flags instead of starting', () => {
    expect(() => parseCliOptions(['--licence-412', 'sometimes'], {})).toThrow('licence_412 must be one of');
    expect(() => parseCliOptions(['--port', 'http'], {})).toThrow("--port needs a number, got 'http'");
    expect(() => parseCliOptions(['--bogus'], {})).toThrow('bogus');
    expect(() => parseCliOptions(['--tls-cert', 'a.pem'], {})).toThrow('--tls-cert and --tls-key go together');
    expect(parseCliOptions(['--help'], {})).toEqual({ help: true });
    expect(CLI_USAGE).toContain('--licence-412');
  });
});

describe('HTTPS', () => {
  it('serves TLS with a generated certificate that verifies against its own CA file', async () => {
    const sim = await startSimulator({ port: 0, logLevel: 'silent', tls: true });
    try {
      expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const ca = readFileSync(sim.caFile ?? '');
      const fetchStatus = (options: { ca?: Buffer }): Promise<number | string> =>
        new Promise((resolve) => {
          get(`${sim.url}/server/status`, { ...options, agent: false }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          }).on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        });
      expect(await fetchStatus({ ca })).toBe(200);
      expect(await fetchStatus({})).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    } finally {
      await sim.close();
    }
  });
});
