// Token budget (issue 14), in GPT's o200k_base tokens (gpt-tokenizer), against a real gateway:
//   name + description + input schema of every tool registered at run time   ≤ 5,000
//   a `brief` page of 40 high/critical findings (get_scan_results text)       ≤ 7,000
//   get_scan_status text of a completed task                                 ≤ 400
//   summarize_findings with 20 groups                                         ≤ 1,500 (when the tool exists)
// The findings come from an export the parser bench's generator builds from the bundled real
// fixtures (10 hosts). Figures are printed and written to bench/out/token-budget.json.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startRedisServer } from '@nessus-mcp/embedded-redis';
import { ingestExport, resultFiguresOf } from '@nessus-mcp/results';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { buildGateway } from '../dist/gateway.js';
import { createGatewayRuntime } from '../dist/gateway-runtime.js';

const here = dirname(fileURLToPath(import.meta.url));
const BUDGET = { tools: 5000, brief_page: 7000, status: 400, summary: 1500 };
const token = `bench-${randomBytes(12).toString('hex')}`;
const workDir = mkdtempSync(join(tmpdir(), 'token-budget-'));
const redis = await startRedisServer();
const figures = {};
let failed = false;

function report(name, tokens, budget, note = '') {
  const ok = tokens <= budget;
  if (!ok) failed = true;
  figures[name] = { tokens, budget, ok };
  console.log(`  ${name.padEnd(34)} ${String(tokens).padStart(6)} tokens (budget ${budget}) ${ok ? 'ok' : 'OVER'}${note ? `  ${note}` : ''}`);
}

const textOf = (result) =>
  result.content
    .filter((block) => block.type === 'text')
    .map((block) => block.text)
    .join('\n');

try {
  writeFileSync(
    join(workDir, 'scanners.yaml'),
    [
      'default_pool: bench',
      'pools:',
      '  - name: bench',
      '    type: mock',
      '    instances:',
      '      - instance_id: mock1',
      '        name: Bench mock',
      '        url: http://127.0.0.1:9',
      '        access_key: a',
      '        secret_key: b',
      '        max_concurrent_scans: 4',
    ].join('\n'),
  );
  const runtime = await createGatewayRuntime({
    env: { REDIS_URL: redis.url, DATA_DIR: join(workDir, 'data'), SCANNERS_CONFIG: join(workDir, 'scanners.yaml'), AUTH_TOKEN: token, LOG_LEVEL: 'warn' },
  });
  const gateway = await buildGateway({ services: runtime.services, logger: runtime.logger, authTokens: runtime.authTokens });
  const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  const client = new Client({ name: 'token-budget', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  try {
    console.log('token budget (o200k_base):');
    const { tools } = await client.listTools();
    const perTool = tools.map((tool) => [
      tool.name,
      countTokens(tool.name) + countTokens(tool.description ?? '') + countTokens(JSON.stringify(tool.inputSchema)),
    ]);
    report(
      `tool list (${tools.length} tools)`,
      perTool.reduce((sum, [, n]) => sum + n, 0),
      BUDGET.tools,
    );
    for (const [name, n] of perTool) console.log(`      ${name.padEnd(24)} ${n}`);
    figures.tools_each = Object.fromEntries(perTool);

    const exportPath = join(workDir, 'export.nessus');
    const generated = spawnSync(process.execPath, [join(here, '../../../packages/nessus-parser/bench/generate-large.mjs'), exportPath, '5'], {
      encoding: 'utf8',
    });
    if (generated.status !== 0) throw new Error(`could not generate the export: ${generated.stderr}`);
    const submitted = await client.callTool({ name: 'run_untrusted_scan', arguments: { targets: '10.0.0.0/28', name: 'token budget' } });
    const taskId = submitted.structuredContent.task_id;
    // What the worker does once a scan finished, through the gateway's own TaskFiles.
    const { files } = runtime.services.context;
    await files.writeExport(taskId, (staging) => copyFile(exportPath, staging));
    const summary = await ingestExport({ files, taskId, credentialed: false });
    const now = new Date().toISOString();
    await runtime.services.context.tasks.update(taskId, {
      status: 'completed',
      started_at: now,
      completed_at: now,
      progress: 100,
      results_summary: resultFiguresOf(summary),
    });

    for (const [label, sort] of [
      ['brief page, sort severity', 'severity'],
      ['brief page, document order', undefined],
    ]) {
      const page = await client.callTool({
        name: 'get_scan_results',
        arguments: { task_id: taskId, filters: { severity: '>=3' }, schema_profile: 'brief', page_size: 40, ...(sort ? { sort } : {}) },
      });
      const text = textOf(page);
      const findings = text.split('\n').filter((line) => line.includes('"type":"vulnerability"')).length;
      report(`${label} (${findings} findings)`, countTokens(text), BUDGET.brief_page);
      // Where a page's tokens go: each field's "key":value across the page's findings, largest first.
      const perField = new Map();
      for (const line of text.split('\n')) {
        if (!line.includes('"type":"vulnerability"')) continue;
        for (const [key, value] of Object.entries(JSON.parse(line)))
          perField.set(key, (perField.get(key) ?? 0) + countTokens(`${JSON.stringify(key)}:${JSON.stringify(value)}`));
      }
      const shares = [...perField].sort((a, b) => b[1] - a[1]);
      console.log(
        `      by field: ${shares
          .slice(0, 6)
          .map(([key, n]) => `${key} ${n}`)
          .join(', ')}`,
      );
      figures[`${label} by field`] = Object.fromEntries(shares);
    }
    report(
      'get_scan_status (completed)',
      countTokens(textOf(await client.callTool({ name: 'get_scan_status', arguments: { task_id: taskId } }))),
      BUDGET.status,
    );
    if (tools.some((tool) => tool.name === 'summarize_findings')) {
      const grouped = await client.callTool({ name: 'summarize_findings', arguments: { task_id: taskId, group_by: 'plugin_id', top: 20 } });
      report('summarize_findings (20 groups)', countTokens(textOf(grouped)), BUDGET.summary);
    } else {
      console.log('  summarize_findings (20 groups)     not available (the tool is not registered)');
      figures.summarize_findings = 'not available';
    }
  } finally {
    await client.close();
    await gateway.app.close();
    await runtime.close();
  }
  mkdirSync(join(here, 'out'), { recursive: true });
  writeFileSync(join(here, 'out', 'token-budget.json'), `${JSON.stringify(figures, null, 2)}\n`);
  if (failed) console.log('token budget: some figures are over budget');
} finally {
  await redis.stop();
  rmSync(workDir, { recursive: true, force: true });
}
