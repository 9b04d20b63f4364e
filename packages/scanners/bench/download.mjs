#!/usr/bin/env node
// Streams a large Nessus export through NessusScanner.exportReport and reports the client's RSS
// growth (issue 5: a 500 MB export must cost the client < 50 MB). The server runs in a child
// process so only the client's memory is measured.
//   node bench/download.mjs            512 MB (the figure the issue asks for)
//   node bench/download.mjs --mb 20    a quick run while developing
// Needs `npm run build -w @nessus-mcp/scanners` first (it imports dist/).
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

const MiB = 1024 * 1024;
const TARGET_GROWTH_MIB = 50;

function argValue(name, fallback) {
  const index = process.argv.indexOf(name);
  return index >= 0 && process.argv[index + 1] !== undefined ? process.argv[index + 1] : fallback;
}

async function serve(totalBytes) {
  const chunk = Buffer.alloc(MiB, '<ReportItem pluginID="19506">padding</ReportItem>\n');
  const keys = { 'x-apikeys': 'accessKey=bench-access; secretKey=bench-secret;' };
  const json = (res, status, body) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const server = createServer(async (req, res) => {
    if (req.headers['x-apikeys'] !== keys['x-apikeys']) return json(res, 401, { error: 'Invalid Credentials' });
    const path = req.url.split('?')[0];
    if (req.method === 'GET' && path === '/scans/1') return json(res, 200, { info: { status: 'completed', hostcount: 1 }, hosts: [] });
    if (req.method === 'POST' && path === '/scans/1/export') return json(res, 200, { token: 'f'.repeat(64), file: 7 });
    if (req.method === 'GET' && path === '/scans/1/export/7/status') return json(res, 200, { status: 'ready' });
    if (req.method === 'GET' && path === '/scans/1/export/7/download') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': totalBytes });
      let left = totalBytes;
      while (left > 0) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        if (!res.write(piece)) await once(res, 'drain');
      }
      return res.end();
    }
    json(res, 404, { error: 'not found' });
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('disconnect', () => server.close(() => process.exit(0)));
}

async function measure(mb) {
  const { NessusScanner } = await import('../dist/index.js');
  const totalBytes = mb * MiB;
  const child = fork(new URL(import.meta.url), ['--serve', String(totalBytes)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [{ port }] = await once(child, 'message');
  const dir = await mkdtemp(join(tmpdir(), 'nmcp-bench-'));
  const scanner = new NessusScanner({
    poolName: 'bench',
    instance: {
      instance_id: 'bench-1',
      name: 'bench',
      url: `http://127.0.0.1:${port}`,
      access_key: 'bench-access',
      secret_key: 'bench-secret',
      max_concurrent_scans: 1,
      enabled: true,
      tls_verify: true,
      timeout_ms: 30_000,
    },
  });
  try {
    // Warm up (module loading, first connection) so the baseline is the steady state.
    await scanner.listOwnScans().catch(() => undefined);
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const started = performance.now();
    const { bytes } = await scanner.exportReport('1', join(dir, 'report.nessus'));
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const onDisk = (await stat(join(dir, 'report.nessus'))).size;
    const growthMiB = (peak - baseline) / MiB;
    const result = {
      bench: 'scanners/download',
      size_mib: mb,
      bytes,
      on_disk_ok: onDisk === totalBytes && bytes === totalBytes,
      seconds: Number(seconds.toFixed(2)),
      throughput_mib_s: Number((mb / seconds).toFixed(1)),
      rss_baseline_mib: Number((baseline / MiB).toFixed(1)),
      rss_peak_mib: Number((peak / MiB).toFixed(1)),
      rss_growth_mib: Number(growthMiB.toFixed(1)),
      target_growth_mib: TARGET_GROWTH_MIB,
      pass: growthMiB < TARGET_GROWTH_MIB && onDisk === totalBytes,
    };
    console.log(JSON.stringify(result));
    if (!result.pass) process.exitCode = 1;
  } finally {
    await scanner.close();
    child.disconnect();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve') {
  await serve(Number(process.argv[3]));
} else {
  const mb = Number(argValue('--mb', process.env.BENCH_DOWNLOAD_MB ?? '512'));
  if (!Number.isInteger(mb) || mb < 1) {
    console.error('--mb must be a positive integer');
    process.exit(2);
  }
  await measure(mb);
}
