import { request } from 'node:http';
import { SaxesParser } from 'saxes';
import type { RunningSimulator, SimulatorOptions } from '../src/index.js';
import { startSimulator } from '../src/index.js';

export const API_KEYS = 'accessKey=sim-access-key; secretKey=sim-secret-key;';
export const ADVANCED_UUID = 'ad629e16-03b6-8c1d-cef6-ef8c9dd3c658d24bd260ef5f9e66';

export interface Harness {
  sim: RunningSimulator;
  /** Moves the simulator's clock forward. */
  advance(ms: number): void;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer>;
  createScan(settings: Record<string, unknown>, extra?: Record<string, unknown>): Promise<number>;
  /** Drives a launched scan to its end by moving the clock, then returns the final status. */
  runToEnd(id: number): Promise<string>;
  /** export → status until ready → download; returns the body text. */
  exportText(id: number): Promise<string>;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export async function startHarness(options: SimulatorOptions = {}): Promise<Harness> {
  let now = Date.UTC(2026, 0, 15, 12, 0, 0);
  const sim = await startSimulator({ port: 0, logLevel: 'silent', clock: () => now, faults: { scan_seconds: 10, drift: 0 }, ...options });
  const call = async (method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer> => {
    const response = await fetch(`${sim.url}${path}`, {
      method,
      headers: { 'X-ApiKeys': API_KEYS, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  };
  const harness: Harness = {
    sim,
    advance: (ms) => {
      now += ms;
    },
    call,
    createScan: async (settings, extra = {}) => {
      const answer = await call('POST', '/scans', { uuid: ADVANCED_UUID, settings: { name: 'scan', ...settings }, ...extra });
      if (answer.status !== 200) throw new Error(`create failed: ${answer.status} ${answer.text}`);
      return (answer.json as { scan: { id: number } }).scan.id;
    },
    runToEnd: async (id) => {
      for (let step = 0; step < 100; step += 1) {
        const details = await call('GET', `/scans/${id}`);
        const status = (details.json as { info: { status: string } }).info.status;
        if (['completed', 'canceled', 'aborted'].includes(status)) return status;
        now += 1000;
      }
      throw new Error(`scan ${id} never ended`);
    },
    exportText: async (id) => {
      const exported = await call('POST', `/scans/${id}/export`, { format: 'nessus' });
      if (exported.status !== 200) throw new Error(`export failed: ${exported.status} ${exported.text}`);
      const { file } = exported.json as { file: number };
      for (let poll = 0; poll < 5; poll += 1) {
        const status = await call('GET', `/scans/${id}/export/${file}/status`);
        if ((status.json as { status: string }).status === 'ready') {
          const download = await call('GET', `/scans/${id}/export/${file}/download`);
          if (download.status !== 200) throw new Error(`download failed: ${download.status}`);
          return download.text;
        }
      }
      throw new Error('export never ready');
    },
  };
  return harness;
}

export interface RawAnswer {
  statusLine: string;
  head: string;
  body: Buffer;
  /** How the connection ended: 'end' (clean FIN) or the socket error code. */
  ending: string;
}

/** Sends one request over a raw socket and reports exactly what came back, broken or not. */
export function rawRequest(sim: RunningSimulator, method: string, path: string, body?: string): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const req = request(`${sim.url}${path}`, {
      method,
      headers: { 'X-ApiKeys': API_KEYS, 'Content-Type': 'application/json' },
      agent: false,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      const head = Object.entries(res.headers)
        .map(([name, value]) => `${name}: ${String(value)}`)
        .join('\n');
      const finish = (ending: string): void => resolve({ statusLine: `${res.statusCode}`, head, body: Buffer.concat(chunks), ending });
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => finish('end'));
      res.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
      res.on('aborted', () => finish('aborted'));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ statusLine: '', head: '', body: Buffer.alloc(0), ending: error.code ?? error.message }));
    req.end(body);
  });
}

export function countReportHosts(xml: string): number {
  return xml.match(/<ReportHost name="/g)?.length ?? 0;
}

/**
 * Parses the document with a strict streaming XML parser and reports its shape; throws on the
 * first well-formedness error.
 */
export function inspectXml(xml: string): { root: string; reportHosts: number; hostIps: string[] } {
  const parser = new SaxesParser();
  let root = '';
  let reportHosts = 0;
  const hostIps: string[] = [];
  let inHostIp = false;
  let failure: Error | undefined;
  parser.on('error', (error) => {
    failure ??= error;
  });
  parser.on('opentag', (node) => {
    if (root === '') root = node.name;
    if (node.name === 'ReportHost') reportHosts += 1;
    inHostIp = node.name === 'tag' && node.attributes['name'] === 'host-ip';
  });
  parser.on('text', (text) => {
    if (inHostIp) hostIps.push(text);
  });
  parser.on('closetag', () => {
    inHostIp = false;
  });
  parser.write(xml).close();
  if (failure) throw failure;
  return { root, reportHosts, hostIps };
}
