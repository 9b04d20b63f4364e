// Builds a large, well-formed Nessus v2 export by repeating the real ReportHost blocks of the
// bundled fixtures with fresh addresses, so the benchmark measures real plugin output, real
// compliance items and real field mixes rather than a synthetic pattern.
//
//   node bench/generate-large.mjs OUT_FILE SIZE_MB
import { createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const SAMPLES_DIR = process.env.NESSUS_SAMPLES_DIR ?? join(here, '..', 'test', 'fixtures');

// Well-formed v2 fixtures only: the malformed and v1 files would make the output invalid.
const SOURCES = [
  'tenable_pyTenable__example.nessus',
  'DefectDojo_django-DefectDojo__nessus_with_cvssv3.nessus',
  'savon-noir_python-libnessus__nessus_report_local_3.nessus',
  'mitre_saf__nessus_sample.nessus',
  'DefectDojo_django-DefectDojo__nessus_was_many_vuln.xml',
];

/** @returns {{ header: string, blocks: string[] }} */
function loadBlocks() {
  /** @type {string[]} */
  const blocks = [];
  let header = '';
  for (const file of SOURCES) {
    const text = readFileSync(join(SAMPLES_DIR, file), 'utf8');
    if (header === '') {
      const reportAt = text.indexOf('<Report ');
      const reportEnd = text.indexOf('>', reportAt);
      header = text.slice(0, reportEnd + 1);
    }
    let from = 0;
    for (;;) {
      const start = text.indexOf('<ReportHost ', from);
      if (start < 0) break;
      const end = text.indexOf('</ReportHost>', start) + '</ReportHost>'.length;
      blocks.push(text.slice(start, end));
      from = end;
    }
  }
  return { header, blocks };
}

/** @param {number} n */
function address(n) {
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

/** @param {string} block @param {number} n */
function withAddress(block, n) {
  const ip = address(n);
  return block.replace(/^<ReportHost name="[^"]*"/, `<ReportHost name="${ip}"`).replace(/<tag name="host-ip">[^<]*<\/tag>/, `<tag name="host-ip">${ip}</tag>`);
}

/**
 * @param {string} outFile
 * @param {number} sizeMb
 * @returns {Promise<{ bytes: number, hosts: number }>}
 */
export async function generateLargeExport(outFile, sizeMb) {
  const { header, blocks } = loadBlocks();
  const target = sizeMb * 1024 * 1024;
  const out = createWriteStream(outFile);
  let bytes = 0;
  let hosts = 0;
  /** @param {string} s */
  const write = async (s) => {
    bytes += Buffer.byteLength(s);
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(`${header}\n`);
  while (bytes < target) {
    const block = blocks[hosts % blocks.length];
    if (block === undefined) throw new Error('no ReportHost blocks found in the fixtures');
    await write(`${withAddress(block, hosts + 1)}\n`);
    hosts += 1;
  }
  await write('</Report>\n</NessusClientData_v2>\n');
  out.end();
  await once(out, 'finish');
  return { bytes, hosts };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [outFile, size] = process.argv.slice(2);
  if (outFile === undefined || size === undefined) {
    console.error('usage: node bench/generate-large.mjs OUT_FILE SIZE_MB');
    process.exit(2);
  }
  const result = await generateLargeExport(outFile, Number(size));
  console.log(JSON.stringify(result));
}
