#!/usr/bin/env node
// List the critical findings of a scan (or those at or above MIN_SEVERITY), most severe first.
// Reads an existing completed task when TASK_ID is set; otherwise scans TARGETS first.
//
// Env: NESSUS_MCP_URL, AUTH_TOKEN, TARGETS (default 127.0.0.1), TASK_ID, MIN_SEVERITY (0-4, default 4),
//      POLL_INTERVAL_MS (default 2000), WAIT_TIMEOUT_MS (default 600000).
import { NessusMcpClient } from '../dist/index.js';

const targets = process.env.TARGETS ?? '127.0.0.1';
const minSeverity = Number(process.env.MIN_SEVERITY ?? 4);

async function main() {
  if (![0, 1, 2, 3, 4].includes(minSeverity)) throw new Error(`MIN_SEVERITY must be 0-4, got ${process.env.MIN_SEVERITY}`);
  const client = await NessusMcpClient.connect();
  try {
    let taskId = process.env.TASK_ID;
    if (!taskId) {
      const { submission, status } = await client.scanAndWait(
        { targets, name: `example-criticals ${new Date().toISOString()}` },
        { pollIntervalMs: Number(process.env.POLL_INTERVAL_MS ?? 2000), timeoutMs: Number(process.env.WAIT_TIMEOUT_MS ?? 600_000) },
      );
      if (status.status !== 'completed') throw new Error(`scan ${submission.task_id} ended ${status.status}`);
      taskId = submission.task_id;
    }

    const findings = await client.getCriticalVulnerabilities(taskId, { minSeverity, profile: 'summary' });
    console.log(`${taskId}: ${findings.length} finding(s) of severity >= ${minSeverity}`);
    for (const f of findings) {
      console.log(`  [${f.severity}] ${f.host}:${f.port}/${f.protocol}  ${f.plugin_id}  ${f.plugin_name}${f.cve?.length ? `  ${f.cve.join(',')}` : ''}`);
    }
  } finally {
    await client.close();
  }
}

main().catch((error) => {
  console.error(`criticals: ${error.code ?? 'error'}: ${error.message}`);
  process.exitCode = 1;
});
