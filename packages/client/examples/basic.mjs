#!/usr/bin/env node
// Submit an untrusted (network-only) scan and read its status once.
//
//   NESSUS_MCP_URL=http://127.0.0.1:8835/mcp AUTH_TOKEN=... node examples/basic.mjs
//
// Env: NESSUS_MCP_URL, AUTH_TOKEN, TARGETS (default 127.0.0.1).
import { NessusMcpClient } from '../dist/index.js';

const targets = process.env.TARGETS ?? '127.0.0.1';

async function main() {
  // url and token default to NESSUS_MCP_URL and AUTH_TOKEN.
  const client = await NessusMcpClient.connect();
  try {
    const submission = await client.submitUntrustedScan({ targets, name: `example-basic ${new Date().toISOString()}` });
    console.log(
      `submitted ${submission.task_id}: ${submission.status} on ${submission.scanner_pool}/${submission.scanner_instance}` +
        ` (queue position ${submission.queue_position}, ~${submission.estimated_wait_minutes} min)`,
    );

    const status = await client.getStatus(submission.task_id);
    console.log(`status: ${status.status}${typeof status.progress === 'number' ? ` ${status.progress}%` : ''}`);
  } finally {
    await client.close();
  }
}

main().catch((error) => {
  console.error(`basic: ${error.code ?? 'error'}: ${error.message}`);
  process.exitCode = 1;
});
