// One timed run of nessus-parser over FILE, reading every event (full extraction to findings).
//   node bench/parse-file.mjs FILE [WORKERS|auto]
import { parseNessus } from '../dist/index.js';

const [file, workersArg = 'auto'] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node bench/parse-file.mjs FILE [WORKERS|auto]');
  process.exit(2);
}
const workers = workersArg === 'auto' ? 'auto' : Number(workersArg);
const started = performance.now();
let findings = 0;
let textBytes = 0;
let summary = null;
for await (const event of parseNessus(file, { workers })) {
  if (event.type === 'finding') {
    findings += 1;
    // Touch the payload so nothing can be skipped lazily.
    textBytes += event.finding.plugin_output?.length ?? 0;
  } else if (event.type === 'end') summary = event.summary;
}
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ seconds, findings, hosts: summary?.hosts, textBytes, max_rss_kb: process.resourceUsage().maxRSS }));
