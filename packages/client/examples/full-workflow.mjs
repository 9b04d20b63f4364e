#!/usr/bin/env node
// The whole round trip of a credentialed scan: check the scanners, submit a trusted (SSH) scan,
// wait with progress, page through the findings of severity >= MIN_SEVERITY, print the summary
// and find the task again in the task list. Exits 0 only if every step worked.
//
// Env: NESSUS_MCP_URL, AUTH_TOKEN, TARGETS (default 127.0.0.1),
//      SSH_USERNAME (default nessus-mcp-demo), SSH_PASSWORD (default suits the bundled simulator,
//      which accepts any credentials; set a real one for a real scanner),
//      MIN_SEVERITY (default 1), POLL_INTERVAL_MS (default 2000), WAIT_TIMEOUT_MS (default 600000).
import { NessusMcpClient } from '../dist/index.js';

const targets = process.env.TARGETS ?? '127.0.0.1';
const minSeverity = Number(process.env.MIN_SEVERITY ?? 1);

async function main() {
  const client = await NessusMcpClient.connect();
  try {
    const { pools } = await client.listScanners();
    const instances = pools.flatMap((pool) => pool.instances.map((i) => `${pool.name}/${i.instance_id}${i.healthy === false ? ` (${i.health_status})` : ''}`));
    console.log(`scanners: ${instances.join(', ') || '(none configured)'}`);

    const submission = await client.submitTrustedScan({
      targets,
      name: `example-full-workflow ${new Date().toISOString()}`,
      description: 'nessus-mcp client example',
      sshUsername: process.env.SSH_USERNAME ?? 'nessus-mcp-demo',
      sshPassword: process.env.SSH_PASSWORD ?? 'simulator-accepts-any-password',
    });
    console.log(`submitted ${submission.task_id} (trace ${submission.trace_id})`);

    const status = await client.waitForCompletion(submission.task_id, {
      pollIntervalMs: Number(process.env.POLL_INTERVAL_MS ?? 2000),
      timeoutMs: Number(process.env.WAIT_TIMEOUT_MS ?? 600_000),
      onProgress: (s) => console.log(`  ${s.status}${typeof s.progress === 'number' ? ` ${s.progress}%` : ''}`),
    });
    if (status.status !== 'completed') throw new Error(`scan ended ${status.status}${status.error ? `: ${status.error.message}` : ''}`);
    console.log(`SSH authentication: ${status.results_summary?.authentication_status ?? status.authentication_status ?? 'unknown'}`);

    // Page through the filtered findings, 10 at a time, most severe first.
    let seen = 0;
    let expected = 0;
    for await (const page of client.iteratePages(submission.task_id, {
      pageSize: 10,
      profile: 'minimal',
      filters: { severity: `>=${minSeverity}` },
      sort: 'severity',
    })) {
      expected = page.schema.total_vulnerabilities;
      seen += page.vulnerabilities.length;
      console.log(`  page ${page.pagination?.page}/${page.pagination?.total_pages}: ${page.vulnerabilities.length} finding(s)`);
    }
    if (seen !== expected) throw new Error(`paged ${seen} findings but the schema line announced ${expected}`);
    console.log(`${seen} finding(s) of severity >= ${minSeverity}`);

    const summary = await client.getVulnerabilitySummary(submission.task_id);
    console.log(`summary: ${summary.hosts_scanned} host(s), ${summary.total_vulnerabilities} findings, ${JSON.stringify(summary.severity_breakdown)}`);

    const { tasks } = await client.listTasks({ status: 'completed', limit: 100 });
    if (!tasks.some((t) => t.task_id === submission.task_id)) throw new Error(`${submission.task_id} is missing from list_tasks`);
    console.log('found in the task list');
  } finally {
    await client.close();
  }
}

main().catch((error) => {
  console.error(`full-workflow: ${error.code ?? 'error'}: ${error.message}`);
  process.exitCode = 1;
});
