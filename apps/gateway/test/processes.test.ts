import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { TOOL_DEFINITIONS } from '../src/mcp/tool-definitions.js';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
let dataDir: string;
let env: Record<string, string>;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'gateway-proc-'));
  const pool = `s${randomBytes(3).toString('hex')}`;
  writeFileSync(
    join(dataDir, 'scanners.yaml'),
    [
      `default_pool: ${pool}`,
      'pools:',
      `  - name: ${pool}`,
      '    type: mock',
      '    instances:',
      '      - instance_id: mock1',
      '        name: Mock',
      '        url: http://127.0.0.1:9',
      '        access_key: a',
      '        secret_key: b',
    ].join('\n'),
  );
  env = {
    PATH: process.env.PATH ?? '',
    REDIS_URL: process.env.REDIS_URL ?? '',
    DATA_DIR: dataDir,
    SCANNERS_CONFIG: join(dataDir, 'scanners.yaml'),
    AUTH_TOKEN: 'process-test-token-0123456789',
    LOG_LEVEL: 'info',
  };
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function run(script: string, extraEnv: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(DIST, script)], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stderr, stdout }));
  });
}

describe('the gateway process', () => {
  it('exits non-zero with the reason when the configuration is bad', async () => {
    const missing = await run('main.js', { REDIS_URL: '' });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('REDIS_URL is required');
    const badConfig = await run('main.js', { SCANNERS_CONFIG: join(dataDir, 'nope.yaml') });
    expect(badConfig.code).not.toBe(0);
    expect(badConfig.stderr).toContain('nope.yaml');
  });

  it('serves /health once listening and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(DIST, 'main.js')], { env: { ...env, GATEWAY_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const address = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /"address":"(http:\/\/[^"]+)"/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      child.on('exit', (code) => reject(new Error(`gateway exited early (${String(code)})`)));
    });
    const health = await fetch(`${address}/health`);
    expect(health.status).toBe(200);
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});

describe('the stdio server', () => {
  it('lists and runs the same tools over stdio, keeping stdout for the protocol', async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [join(DIST, 'stdio.js')], env, stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(TOOL_DEFINITIONS.map((tool) => tool.name));
      const result = await client.callTool({ name: 'list_tasks', arguments: { limit: 1 } });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ limit: 1 });
      // A task that does not exist is "resource not found" over stdio too, not an internal error.
      const uri = 'nessus://tasks/ne_scan_20260101_000000_0000dead';
      const unknown = await client.readResource({ uri }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(unknown).toBeInstanceOf(McpError);
      expect(unknown).toMatchObject({ code: -32002, data: { uri } });
    } finally {
      await client.close();
    }
    expect(stderr).toContain('stdio server ready');
  });

  it('re-reads scanners.yaml on SIGHUP and keeps serving', async () => {
    const config = join(dataDir, 'stdio-scanners.yaml');
    const pool = (name: string) => [
      `  - name: ${name}`,
      '    type: mock',
      '    instances:',
      '      - instance_id: mock1',
      '        name: Mock',
      '        url: http://127.0.0.1:9',
      '        access_key: a',
      '        secret_key: b',
    ];
    writeFileSync(config, ['default_pool: first', 'pools:', ...pool('first')].join('\n'));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(DIST, 'stdio.js')],
      env: { ...env, SCANNERS_CONFIG: config },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await client.connect(transport);
    const pools = async (): Promise<string[]> => {
      const result = await client.callTool({ name: 'list_scanners', arguments: {} });
      return ((result.structuredContent as { pools: { name: string }[] }).pools ?? []).map((p) => p.name).sort();
    };
    try {
      expect(await pools()).toEqual(['first']);
      writeFileSync(config, ['default_pool: first', 'pools:', ...pool('first'), ...pool('second')].join('\n'));
      process.kill(transport.pid!, 'SIGHUP');
      for (let attempt = 0; !stderr.includes('scanner configuration reloaded'); attempt += 1) {
        if (attempt > 100) throw new Error(`no reload logged:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await pools()).toEqual(['first', 'second']);
    } finally {
      await client.close();
    }
  });
});
