/** Builders for small synthetic Nessus v2 exports, and readers that collect the parser's output. */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNessus } from '../src/parse-nessus.js';
import type { NessusInput } from '../src/input-source.js';
import type { Finding, HostInfo, ParseEvent, ParseOptions, ParseSummary, ScanInfo } from '../src/types.js';

export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
// Real exports copied from public projects; attribution and licences in fixtures/MANIFEST.md.
export const SAMPLES_DIR = join(PACKAGE_DIR, 'test', 'fixtures');

export const sample = (name: string): string => join(SAMPLES_DIR, name);
export const WELL_FORMED_SAMPLES = readdirSync(SAMPLES_DIR).filter(
  (name) => (name.endsWith('.nessus') || name.endsWith('.xml')) && !name.startsWith('djcas9_'),
);
export const MALFORMED_SAMPLE = sample('djcas9_ruby-nessus__example_v2.nessus');
export const V1_SAMPLE = sample('savon-noir_python-libnessus__nessus_report_test_local.nessus.v1');

export interface ItemSpec {
  attrs?: Record<string, string>;
  /** Child elements in order; repeat a name by repeating the pair. */
  children?: Array<[string, string]>;
  /** Raw XML placed inside the item as is. */
  raw?: string;
}

export interface HostSpec {
  name: string;
  properties?: Record<string, string>;
  items?: ItemSpec[];
}

export const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function itemXml(spec: ItemSpec): string {
  const attrs = {
    port: '443',
    svc_name: 'www',
    protocol: 'tcp',
    severity: '2',
    pluginID: '10001',
    pluginName: 'Test plugin',
    pluginFamily: 'General',
    ...spec.attrs,
  };
  const attrText = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
  const children = (spec.children ?? []).map(([name, text]) => `<${name}>${escapeXml(text)}</${name}>`).join('\n');
  return `<ReportItem${attrText}>\n${children}${spec.raw ?? ''}\n</ReportItem>`;
}

export function hostXml(spec: HostSpec): string {
  const props = Object.entries(spec.properties ?? {})
    .map(([k, v]) => `<tag name="${escapeXml(k)}">${escapeXml(v)}</tag>`)
    .join('\n');
  return `<ReportHost name="${escapeXml(spec.name)}"><HostProperties>\n${props}\n</HostProperties>\n${(spec.items ?? []).map(itemXml).join('\n')}\n</ReportHost>`;
}

export function nessusXml(hosts: HostSpec[], options: { reportName?: string; preferences?: Record<string, string> } = {}): string {
  const prefs = Object.entries(options.preferences ?? { TARGET: '192.0.2.0/24' })
    .map(([name, value]) => `<preference><name>${name}</name><value>${escapeXml(value)}</value></preference>`)
    .join('\n');
  return `<?xml version="1.0" ?>
<NessusClientData_v2>
<Policy><policyName>Test policy</policyName><Preferences><ServerPreferences>
${prefs}
</ServerPreferences></Preferences></Policy>
<Report name="${escapeXml(options.reportName ?? 'Test report')}" xmlns:cm="http://www.nessus.org/cm">
${hosts.map(hostXml).join('\n')}
</Report>
</NessusClientData_v2>
`;
}

export interface Collected {
  scan: ScanInfo | null;
  hosts: HostInfo[];
  findings: Finding[];
  summary: ParseSummary | null;
  events: ParseEvent[];
}

/** Runs the parser to the end (or the first error, which is returned alongside what came before). */
export async function collect(input: NessusInput, options: ParseOptions = { workers: 0 }): Promise<Collected & { error: unknown }> {
  const out: Collected = { scan: null, hosts: [], findings: [], summary: null, events: [] };
  let error: unknown = null;
  try {
    for await (const event of parseNessus(input, options)) {
      out.events.push(event);
      if (event.type === 'scan') out.scan = event.scan;
      else if (event.type === 'host') out.hosts.push(event.host);
      else if (event.type === 'finding') out.findings.push(event.finding);
      else out.summary = event.summary;
    }
  } catch (thrown) {
    error = thrown;
  }
  return { ...out, error };
}

/** Parses a document that must succeed; fails the test with the parser's message otherwise. */
export async function parseText(xml: string, options: ParseOptions = { workers: 0 }): Promise<Collected> {
  const result = await collect([Buffer.from(xml)], options);
  if (result.error !== null) throw result.error;
  return result;
}

/** Feeds `bytes` in pieces of 1 to `max` bytes (a fixed pseudo-random sequence), cutting anywhere. */
export function* chunked(bytes: Uint8Array, max: number, seed = 7): Generator<Uint8Array> {
  let state = seed;
  let offset = 0;
  while (offset < bytes.length) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const size = 1 + (state % max);
    yield bytes.subarray(offset, offset + size);
    offset += size;
  }
}

export async function onlyFinding(xml: string): Promise<Finding> {
  const { findings } = await parseText(xml);
  if (findings.length !== 1) throw new Error(`expected one finding, got ${findings.length}`);
  return findings[0]!;
}
