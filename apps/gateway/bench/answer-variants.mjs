// What each part of the get_scan_status answer costs the load client. The bare SDK yardstick
// (yardstick-server.mjs) serves the answer run-bench.mjs recorded from the gateway, as it is and
// with one part changed at a time, next to the `echo` yardstick; the MCP Inspector's load client
// calls each in turn (rotating order, BENCH_ROUNDS rounds of BENCH_DURATION_S seconds). The server
// side is the same SDK path every time, so the differences are the client's: what it does with a
// body of that size and shape (parse, result schema, output-schema validation, recording).
// Run run-bench.mjs first (BENCH_STATUS_ONLY=1 is enough); ANSWER names another recorded answer.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measured, median, startYardstick } from './load-client.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 6));
const duration = Number(process.env.BENCH_DURATION_S ?? 6);
const answerPath = process.env.ANSWER ?? join(here, 'out', 'status-answer.json');
const recorded = JSON.parse(readFileSync(answerPath, 'utf8'));
const { tool, result } = recorded;
const [text, ...links] = result.content;
const withoutOutputSchema = Object.fromEntries(Object.entries(tool).filter(([key]) => key !== 'outputSchema'));
const withoutNulls = Object.fromEntries(Object.entries(result.structuredContent).filter(([, value]) => value !== null));

const variants = {
  'as served': { tool, result },
  'no resource_link blocks': { tool, result: { ...result, content: [text] } },
  'nulls left out': { tool, result: { content: [{ type: 'text', text: JSON.stringify(withoutNulls) }, ...links], structuredContent: withoutNulls } },
  'no output schema listed': { tool: withoutOutputSchema, result },
  'text only (no structuredContent)': { tool: withoutOutputSchema, result: { content: result.content } },
  'structuredContent + one-word text': { tool, result: { ...result, content: [{ type: 'text', text: 'ok' }, ...links] } },
};

const workDir = mkdtempSync(join(tmpdir(), 'answer-variants-'));
const children = [];
const serve = async (answer) => {
  let answerFile;
  if (answer) {
    answerFile = join(workDir, `${children.length}.json`);
    writeFileSync(answerFile, JSON.stringify(answer));
  }
  const { child, url } = startYardstick({ answerFile });
  children.push(child);
  return { pid: child.pid, url: await url };
};

try {
  const echo = await serve(null);
  const targets = [
    { name: 'echo (1 character)', bytes: JSON.stringify({ content: [{ type: 'text', text: 'x' }] }).length, ...echo, tool: 'echo', args: { value: 'x' } },
  ];
  for (const [name, answer] of Object.entries(variants)) {
    targets.push({
      name,
      bytes: JSON.stringify(answer.result).length,
      ...(await serve(answer)),
      tool: tool.name,
      args: { task_id: result.structuredContent.task_id },
    });
  }
  console.log(`${targets.length} bare SDK servers, ${rounds} rounds of ${duration} s each, rotating order`);
  for (const target of targets) await measured([target.pid], target.url, target.tool, target.args, null, 3);
  const runs = targets.map(() => []);
  for (let round = 0; round < rounds; round += 1) {
    for (let turn = 0; turn < targets.length; turn += 1) {
      const which = (turn + round) % targets.length;
      const target = targets[which];
      runs[which].push(await measured([target.pid], target.url, target.tool, target.args, null, duration));
    }
  }
  console.log('answer'.padEnd(36), 'bytes', ' calls/s', ' vs echo (median, range)', ' client CPU/call');
  for (const [i, target] of targets.entries()) {
    const ratios = runs[i].map((run, round) => run.throughput / runs[0][round].throughput);
    console.log(
      `${target.name.padEnd(36)} ${String(target.bytes).padStart(5)} ${median(runs[i].map((run) => run.throughput))
        .toFixed(0)
        .padStart(8)}` +
        `  ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})` +
        `        ${median(runs[i].map((run) => run.clientCpuMsPerCall)).toFixed(2)} ms`,
    );
  }
} finally {
  for (const child of children) child.kill('SIGTERM');
  rmSync(workDir, { recursive: true, force: true });
}
