import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addThreatIntel } from './threat-intel.js';

/** Places in a template where per-scan or per-target text goes. */
export type HostSlot = 'credentialed_checks' | 'scan_name' | 'host_ip' | 'host_name';

export interface PluginSummary {
  pluginId: number;
  pluginName: string;
  pluginFamily: string;
  severity: number;
}

/** One real ReportHost, cut from a bundled fixture, with its target-dependent parts removed. */
export interface HostTemplate {
  /** `<fixture file>#<original host name>`, for diagnostics. */
  readonly source: string;
  /** HostProperties `<tag>`s other than the per-target ones, verbatim except for the slots. */
  readonly staticTags: readonly (Buffer | HostSlot)[];
  /** The ReportItems, verbatim except for the slots. */
  readonly body: readonly (Buffer | HostSlot)[];
  readonly plugins: readonly PluginSummary[];
  /** ReportItems by severity 0..4. */
  readonly severityCounts: readonly [number, number, number, number, number];
}

export const DEFAULT_FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

// Tags the export writes itself for each target, or that would contradict the credentials verdict.
const PER_TARGET_TAGS = [
  'host-ip',
  'host-fqdn',
  'host-fqdns',
  'hostname',
  'HOST_START',
  'HOST_END',
  'HOST_START_TIMESTAMP',
  'HOST_END_TIMESTAMP',
  'Credentialed_Scan',
  'LastAuthenticatedResults',
  'LastUnauthenticatedResults',
];
const PER_TARGET_TAG_RE = new RegExp(`\\s*<tag name="(?:${PER_TARGET_TAGS.join('|')})">[\\s\\S]*?</tag>`, 'g');

// Credential outcome plugins, re-added by the export according to the scan's credentials:
// 21745 Authentication Failure - Local Checks Not Run, 104410 Failure for Provided Credentials,
// 110385 Insufficient Privilege, 141118 Valid Credentials Provided, 110095 No Issues Found.
export const CREDENTIAL_PLUGIN_IDS = ['21745', '104410', '110385', '141118', '110095'];
const CREDENTIAL_ITEM_RE = new RegExp(`\\s*<ReportItem\\b[^>]*\\bpluginID="(?:${CREDENTIAL_PLUGIN_IDS.join('|')})"[^>]*>[\\s\\S]*?</ReportItem>`, 'g');
const REPORT_HOST_RE = /<ReportHost\b[^>]*\bname="([^"]*)"[^>]*>([\s\S]*?)<\/ReportHost>/g;
const ITEM_OPEN_RE = /<ReportItem\b([^>]*)>/g;

export function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-fA-F]+);/g, (_whole, entity: string) => {
    switch (entity) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      case 'amp':
        return '&';
      default:
        return String.fromCodePoint(entity.startsWith('#x') ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10));
    }
  });
}

function attribute(attributes: string, name: string): string | undefined {
  const match = new RegExp(`\\b${name}="([^"]*)"`).exec(attributes);
  return match?.[1] === undefined ? undefined : unescapeXml(match[1]);
}

interface HostIdentity {
  ip: string | undefined;
  /** The fixture host's DNS name, when it had one. */
  name: string | undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Cuts every mention of the fixture host's own address or DNS name (traceroute hops, plugin
 * outputs, URLs) into a slot, so an exported host never names the machine it was copied from.
 */
function splitIdentity(text: string, identity: HostIdentity): (Buffer | HostSlot)[] {
  const alternatives: string[] = [];
  if (identity.ip) alternatives.push(`(?<![\\d.])${escapeRegExp(identity.ip)}(?![\\d])`);
  if (identity.name) alternatives.push(`(?<![A-Za-z0-9.-])${escapeRegExp(identity.name)}(?![A-Za-z0-9-])`);
  if (alternatives.length === 0) return [Buffer.from(text)];
  const parts: (Buffer | HostSlot)[] = [];
  let position = 0;
  for (const match of text.matchAll(new RegExp(alternatives.join('|'), 'gi'))) {
    parts.push(Buffer.from(text.slice(position, match.index)), match[0] === identity.ip ? 'host_ip' : 'host_name');
    position = match.index + match[0].length;
  }
  parts.push(Buffer.from(text.slice(position)));
  return parts.filter((part) => typeof part === 'string' || part.length > 0);
}

/** Splits the 19506 "Nessus Scan Information" output around the values the export rewrites. */
function sliceBody(items: string, source: string, identity: HostIdentity): (Buffer | HostSlot)[] {
  const infoStart = items.search(/<ReportItem\b[^>]*\bpluginID="19506"/);
  if (infoStart < 0) throw new Error(`fixture ${source}: no plugin 19506 (Nessus Scan Information) item`);
  const infoEnd = items.indexOf('</ReportItem>', infoStart);
  const info = items.slice(infoStart, infoEnd);
  const cuts: { from: number; to: number; slot: HostSlot }[] = [];
  for (const [label, slot] of [
    ['Credentialed checks : ', 'credentialed_checks'],
    ['Scan name : ', 'scan_name'],
  ] as const) {
    const at = info.indexOf(label);
    if (at < 0) {
      if (slot === 'credentialed_checks') throw new Error(`fixture ${source}: 19506 has no '${label}' line`);
      continue;
    }
    const from = infoStart + at + label.length;
    const lineEnd = items.indexOf('\n', from);
    cuts.push({ from, to: lineEnd < 0 || lineEnd > infoEnd ? infoEnd : lineEnd, slot });
  }
  cuts.sort((a, b) => a.from - b.from);
  const body: (Buffer | HostSlot)[] = [];
  let position = 0;
  for (const cut of cuts) {
    body.push(...splitIdentity(items.slice(position, cut.from), identity), cut.slot);
    position = cut.to;
  }
  body.push(...splitIdentity(items.slice(position), identity));
  return body;
}

export function extractHostTemplates(xml: string, fileName: string): HostTemplate[] {
  const templates: HostTemplate[] = [];
  for (const match of xml.matchAll(REPORT_HOST_RE)) {
    const source = `${fileName}#${match[1] ?? ''}`;
    const inner = match[2] ?? '';
    const props = /<HostProperties>([\s\S]*?)<\/HostProperties>/.exec(inner);
    if (!props || props.index === undefined) throw new Error(`fixture ${source}: no HostProperties`);
    const tagValue = (name: string): string | undefined => new RegExp(`<tag name="${name}">([^<]*)</tag>`).exec(props[1] ?? '')?.[1]?.trim();
    const reportName = match[1] ?? '';
    const dnsName = tagValue('host-fqdn') ?? (/[a-z]/i.test(reportName) && reportName.includes('.') ? reportName : undefined);
    const identity: HostIdentity = { ip: tagValue('host-ip'), name: dnsName };
    const staticTags = (props[1] ?? '').replace(PER_TARGET_TAG_RE, '').trim();
    const items = addThreatIntel(inner.slice(props.index + props[0].length).replace(CREDENTIAL_ITEM_RE, ''));
    const plugins: PluginSummary[] = [];
    const severityCounts: [number, number, number, number, number] = [0, 0, 0, 0, 0];
    for (const item of items.matchAll(ITEM_OPEN_RE)) {
      const attributes = item[1] ?? '';
      const severity = Math.min(4, Math.max(0, Number(attribute(attributes, 'severity') ?? 0)));
      severityCounts[severity] = (severityCounts[severity] ?? 0) + 1;
      plugins.push({
        pluginId: Number(attribute(attributes, 'pluginID') ?? 0),
        pluginName: attribute(attributes, 'pluginName') ?? '',
        pluginFamily: attribute(attributes, 'pluginFamily') ?? '',
        severity,
      });
    }
    templates.push({
      source,
      staticTags: splitIdentity(staticTags.length > 0 ? `${staticTags}\n` : '', identity),
      body: sliceBody(items, source, identity),
      plugins,
      severityCounts,
    });
  }
  return templates;
}

export function templateByteLength(template: HostTemplate): number {
  return [...template.staticTags, ...template.body].reduce((sum, part) => sum + (typeof part === 'string' ? 0 : part.length), 0);
}

/**
 * Reads every `*.nessus` fixture in `dir`; templates come smallest first so a one-target scan
 * exports a few kilobytes while a large scan still cycles through every fixture.
 */
export function loadHostTemplates(dir: string = DEFAULT_FIXTURES_DIR): HostTemplate[] {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.nessus'))
    .sort();
  const templates = files.flatMap((name) => extractHostTemplates(readFileSync(join(dir, name), 'utf8'), name));
  if (templates.length === 0) throw new Error(`no ReportHost found in the .nessus fixtures under ${dir}`);
  return templates.sort((a, b) => templateByteLength(a) - templateByteLength(b) || a.source.localeCompare(b.source));
}
