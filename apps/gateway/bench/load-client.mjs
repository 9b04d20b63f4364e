// The load client both gateway benchmarks use: the MCP Inspector's CLI in load mode (one client,
// BENCH_CONCURRENCY calls in flight), with the CPU the measured servers and the client itself spent
// per call.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const gatewayDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);

/** Resolves with the first stdout match of `pattern`. */
function waitFor(child, pattern, label) {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk.toString();
      const match = pattern.exec(out);
      if (match) resolve(match[1]);
    });
    child.stderr.on('data', (chunk) => process.stderr.write(chunk));
    child.on('exit', (code) => reject(new Error(`${label} exited (${code}) before it was ready`)));
  });
}

/**
 * Starts the bare SDK yardstick (yardstick-server.mjs; with `answerFile`, serving that recorded
 * answer instead of `echo`). Returns the child at once, so a caller can record it for its shutdown,
 * and its URL once the server prints it.
 */
export function startYardstick({ answerFile, nodeArgs = [], label = 'yardstick' } = {}) {
  const env = { ...process.env, ...(answerFile ? { YARDSTICK_ANSWER: answerFile } : {}) };
  const child = spawn(process.execPath, [...nodeArgs, join(gatewayDir, 'bench', 'yardstick-server.mjs')], {
    cwd: gatewayDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, url: waitFor(child, /(http:\/\/\S+\/mcp)/, label) };
}

export function inspector(url, tool, args, headers, seconds) {
  const cli = [
    'exec',
    '--',
    'inspector',
    '--cli',
    '--server-url',
    url,
    '--transport',
    'http',
    ...(headers ? ['--header', headers] : []),
    '--method',
    'tools/call',
    '--tool-name',
    tool,
    '--tool-args-json',
    JSON.stringify(args),
    '--load',
    '--load-concurrency',
    String(concurrency),
    '--load-duration',
    String(seconds),
    '--format',
    'json',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('npm', cli, { cwd: gatewayDir, env: { ...process.env, NO_PROXY: '*', no_proxy: '*' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk.toString()));
    // Drain stderr: an undrained pipe blocks the inspector once 64 KiB of warnings pile up.
    child.stderr.resume();
    child.on('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('{"result"'));
      if (!line) reject(new Error(`no load result from the inspector:\n${out}`));
      else resolve(JSON.parse(line).result);
    });
  });
}

/** User + system CPU seconds a process has used (Linux clock ticks are 1/100 s). */
export const cpuSecondsOf = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

/** CPU seconds of this process's children that have exited and been waited for (the load client, once it is done). */
export const reapedChildrenCpuSeconds = () => {
  const fields = readFileSync('/proc/self/stat', 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
};

/**
 * An inspector load run, with the CPU time `pids` spent during it per completed call, and the load
 * client's own (its `npm exec` wrapper and start-up included, a few hundredths of a ms per call).
 */
export async function measured(pids, ...args) {
  const before = pids.map(cpuSecondsOf);
  const clientBefore = reapedChildrenCpuSeconds();
  const result = await inspector(...args);
  const calls = Math.max(result.requests, 1);
  const cpuMs = pids.map((pid, i) => ((cpuSecondsOf(pid) - before[i]) * 1000) / calls);
  return { ...result, cpuMsPerCall: cpuMs, clientCpuMsPerCall: ((reapedChildrenCpuSeconds() - clientBefore) * 1000) / calls };
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
