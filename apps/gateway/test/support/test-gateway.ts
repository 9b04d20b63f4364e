import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { createGatewayRuntime, type GatewayRuntime } from '../../src/gateway-runtime.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const SECOND_TOKEN = 'rotated-token-9876543210fedcba';

export interface TestGateway {
  runtime: GatewayRuntime;
  gateway: Gateway;
  /** Base URL of the listening server, e.g. http://127.0.0.1:41234 */
  url: string;
  pool: string;
  prefix: string;
  dataDir: string;
  /** Every log line written so far (JSON text). */
  logs: string[];
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  rateLimit?: { perSecond: number; burst: number };
  allowedTargets?: string[];
  maxAddresses?: number;
  instances?: number;
  /** Contents of an access file (ACCESS_CONFIG) to start with. */
  accessYaml?: string;
  loginThrottle?: { burst: number; refillSeconds: number };
  /** Share another test gateway's Redis keys (and so its rate limits), as gateways of one deployment do. */
  prefix?: string;
}

/**
 * A real gateway on a free port over the suite's real Redis, with a `type: mock` scanner pool
 * (no Nessus needed), its own data dir, key prefix and pool name so suites never see each other.
 */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const suffix = randomBytes(3).toString('hex');
  const pool = `p${suffix}`;
  const prefix = options.prefix ?? `gw${suffix}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'gateway-test-'));
  const instances = Array.from({ length: options.instances ?? 2 }, (_, i) => [
    `      - instance_id: mock${i + 1}`,
    `        name: Mock scanner ${i + 1}`,
    '        url: http://127.0.0.1:9',
    '        access_key: mock-access',
    '        secret_key: mock-secret',
    '        max_concurrent_scans: 2',
  ]).flat();
  const yaml = [
    `default_pool: ${pool}`,
    'pools:',
    `  - name: ${pool}`,
    '    type: mock',
    '    instances:',
    ...instances,
    'allowed_targets:',
    ...(options.allowedTargets ?? ['10.0.0.0/8', '192.168.0.0/16', '*.lab.example.com']).map((t) => `  - "${t}"`),
    'limits:',
    `  max_addresses_per_scan: ${options.maxAddresses ?? 65536}`,
    '  max_name_length: 50',
    '  max_description_length: 200',
  ].join('\n');
  const configPath = join(dataDir, 'scanners.yaml');
  writeFileSync(configPath, `${yaml}\n`);

  let accessPath: string | undefined;
  if (options.accessYaml !== undefined) {
    accessPath = join(dataDir, 'access.yaml');
    writeFileSync(accessPath, options.accessYaml);
  }

  const logs: string[] = [];
  const runtime = await createGatewayRuntime({
    env: {
      REDIS_URL: process.env.REDIS_URL,
      DATA_DIR: dataDir,
      SCANNERS_CONFIG: configPath,
      AUTH_TOKEN: `${TOKEN},${SECOND_TOKEN}`,
      CREDENTIALS_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'debug',
      ...(accessPath ? { ACCESS_CONFIG: accessPath } : {}),
    },
    redisKeyPrefix: prefix,
    logDestination: { write: (line: string) => void logs.push(line) },
  });
  const gateway = await buildGateway({
    services: runtime.services,
    logger: runtime.logger,
    authTokens: runtime.authTokens,
    access: runtime.access,
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    ...(options.loginThrottle ? { loginThrottle: options.loginThrottle } : {}),
  });
  const address = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  return {
    runtime,
    gateway,
    url: address,
    pool,
    prefix,
    dataDir,
    logs,
    async close() {
      await gateway.app.close();
      await runtime.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function connectClient(url: string, token = TOKEN): Promise<Client> {
  const client = new Client({ name: 'gateway-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  return client;
}

export const auth = { authorization: `Bearer ${TOKEN}` };

/** The JSON error body of an `isError` tool result. */
export function errorBody(result: CallToolResult): { error: { code: string; message: string; details?: Record<string, unknown> } } {
  const first = result.content[0];
  if (!result.isError || first?.type !== 'text') throw new Error(`expected an isError result, got ${JSON.stringify(result)}`);
  return JSON.parse(first.text) as { error: { code: string; message: string; details?: Record<string, unknown> } };
}

export async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json<T = unknown>(): T;
}

/** A real HTTP request to the listening gateway (Fastify's inject pulls an ESM-only cookie parser Jest cannot load). */
export async function http(
  base: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<HttpResult> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: <T>() => JSON.parse(text) as T };
}

/**
 * For a suite: starts a gateway and an MCP client before its tests (handing both to `onStart`)
 * and stops them after.
 */
export function useGatewayWithClient(onStart: (started: { gw: TestGateway; client: Client }) => void, options: TestGatewayOptions = {}): void {
  let started: { gw: TestGateway; client: Client } | null = null;
  beforeAll(async () => {
    const gw = await startTestGateway(options);
    started = { gw, client: await connectClient(gw.url) };
    onStart(started);
  });
  afterAll(async () => {
    await started?.client.close();
    await started?.gw.close();
  });
}
