#!/usr/bin/env node
// One call to submit and wait, then the severity summary. Exits 0 only if the scan completed.
//
// Env: NESSUS_MCP_URL, AUTH_TOKEN, TARGETS (default 127.0.0.1),
//      POLL_INTERVAL_MS (default 2000), WAIT_TIMEOUT_MS (default 600000).
import { NessusMcpClient } from '../dist/index.js';

const targets = process.env.TARGETS ?? '127.0.0.1';

async function main() {
  const client = await NessusMcpClient.connect();
  try {
    const { submission, status } = await client.scanAndWait(
      { targets, name: `example-scan-and-wait ${new Date().toISOString()}` },
      { pollIntervalMs: Number(process.env.POLL_INTERVAL_MS ?? 2000), timeoutMs: Number(process.env.WAIT_TIMEOUT_MS ?? 600_000) },
    );
    if (status.status !== 'completed') throw new Error(`scan ${submission.task_id} ended ${status.status}`);

    const summary = await client.getVulnerabilitySummary(submission.task_id);
    const { critical, high, medium, low, info } = summary.severity_breakdown;
    console.log(`${submission.task_id}: ${summary.hosts_scanned} host(s), ${summary.total_vulnerabilities} findings`);
    console.log(`  critical ${critical}  high ${high}  medium ${medium}  low ${low}  info ${info}`);
  } finally {
    await client.close();
  }
}

main().catch((error) => {
  console.error(`scan-and-wait: ${error.code ?? 'error'}: ${error.message}`);
  process.exitCode = 1;
});
