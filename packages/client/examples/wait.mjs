#!/usr/bin/env node
// Submit a scan, then wait for it with a progress callback. Exits 0 only if it completed.
//
// Env: NESSUS_MCP_URL, AUTH_TOKEN, TARGETS (default 127.0.0.1),
//      POLL_INTERVAL_MS (default 2000), WAIT_TIMEOUT_MS (default 600000).
import { NessusMcpClient } from '../dist/index.js';

const targets = process.env.TARGETS ?? '127.0.0.1';
const pollIntervalMs = Number(process.env.POLL_INTERVAL_MS ?? 2000);
const timeoutMs = Number(process.env.WAIT_TIMEOUT_MS ?? 600_000);

async function main() {
  const client = await NessusMcpClient.connect();
  // Ctrl-C stops waiting (the scan carries on server-side; `nessus-mcp cancel` stops it).
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  try {
    const { task_id: taskId } = await client.submitUntrustedScan({ targets, name: `example-wait ${new Date().toISOString()}` });
    console.log(`submitted ${taskId}`);

    const final = await client.waitForCompletion(taskId, {
      pollIntervalMs,
      timeoutMs,
      signal: controller.signal,
      onProgress: (status) => console.log(`  ${status.status}${typeof status.progress === 'number' ? ` ${status.progress}%` : ''}`),
    });
    if (final.status !== 'completed') throw new Error(`scan ended ${final.status}${final.error ? `: ${final.error.message}` : ''}`);
    console.log(`completed: ${final.results_summary?.total_vulnerabilities} findings on ${final.results_summary?.hosts_scanned} host(s)`);
  } finally {
    await client.close();
  }
}

main().catch((error) => {
  console.error(`wait: ${error.code ?? 'error'}: ${error.message}`);
  process.exitCode = 1;
});
