import { AppError, intervalContains, parseCidr, parseIp, type CidrBlock, type HistoryRecord, type IndexedTask } from '@nessus-mcp/core';
import type { Fingerprints } from '@nessus-mcp/results';
import { createHash } from 'node:crypto';
import { pageWindow, paginationLine, resolvePage, resolvePageSize } from '@nessus-mcp/schema';
import type { SearchFindingsInput } from '../schemas/tool-inputs.js';
import { loadFingerprints } from './scan-history.js';
import type { ServiceContext } from './service-context.js';

const SEVERITY_NAMES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const OCCURRENCE_FIELDS = [
  'host',
  'port',
  'protocol',
  'plugin_id',
  'plugin_name',
  'severity',
  'task_id',
  'scan_completed_at',
  'first_seen',
  'last_seen',
  'times_seen',
] as const;

/** The JSON-NL answer to one `search_findings` call. */
export interface SearchPage {
  readonly total: number;
  readonly total_pages: number;
  readonly lines: readonly string[];
  toText(): string;
}

interface Occurrence {
  task: HistoryRecord;
  fingerprints: Fingerprints;
  entry: number;
  /** Identity key across scans. */
  key: string;
  hostId: string;
}

/** Cursor kind of `search_findings` pages. */
const SEARCH_CURSOR_KIND = 'search';

/** What a search cursor continues: the search itself, so a cursor cannot be replayed against another one. */
function searchScope(input: SearchFindingsInput, scope: string): string {
  return JSON.stringify([input.cve?.toUpperCase() ?? null, input.plugin_id ?? null, input.host?.toLowerCase() ?? null, scope]);
}

/** Which scans a listing was built from: a scan indexed or expired since changes it, and so the pages. */
function candidatesVersion(candidates: readonly IndexedTask[]): string {
  const hash = createHash('sha256');
  for (const task of candidates) hash.update(`${task.task_id}\n`);
  return hash.digest('base64url').slice(0, 22);
}

/** The page and size a search asks for: from the cursor when there is one (checked against the search), else from page / page_size. */
function searchWindow(context: ServiceContext, input: SearchFindingsInput, scope: string): { page: number; pageSize: number; cursorStore: string | null } {
  if (input.cursor === undefined) return { page: resolvePage(input.page), pageSize: resolvePageSize(input.page_size), cursorStore: null };
  if (input.page !== undefined) throw new AppError('invalid_argument', 'give either page or cursor, not both', { details: { field: 'cursor' } });
  const cursor = context.results.cursorCodec.decode(input.cursor, SEARCH_CURSOR_KIND);
  if (cursor.scope !== searchScope(input, scope)) {
    throw new AppError('invalid_argument', 'cursor: it continues another search; pass it with the same cve, plugin_id, host and scope', {
      details: { field: 'cursor', differs: 'search' },
    });
  }
  const pageSize = resolvePageSize(typeof cursor.query.n === 'number' ? cursor.query.n : undefined);
  if (input.page_size !== undefined && resolvePageSize(input.page_size) !== pageSize) {
    throw new AppError('invalid_argument', 'cursor: it continues a search with another page_size; pass the cursor alone', {
      details: { field: 'cursor', differs: 'page_size' },
    });
  }
  return { page: cursor.page, pageSize, cursorStore: cursor.store };
}

/** Which hosts of a scan the `host` parameter names: an address, a CIDR, or a name (identity, ReportHost name, FQDN). */
type HostMatcher = (names: { id: string; name: string; ip: string | null; fqdn: string | null }) => boolean;

function hostMatcher(host: string): { match: HostMatcher; cidr: CidrBlock | null } {
  const cidr = host.includes('/') ? parseCidr(host) : null;
  if (host.includes('/') && !cidr)
    throw new AppError('invalid_argument', `host: '${host}' is neither an address, a CIDR nor a host name`, { details: { field: 'host' } });
  if (cidr) {
    return {
      cidr,
      match: (names) =>
        [names.id, names.ip].some((value) => {
          const address = value ? parseIp(value) : null;
          return address !== null && intervalContains(cidr, address);
        }),
    };
  }
  const wanted = host.toLowerCase();
  return { cidr: null, match: (names) => [names.id, names.name, names.ip, names.fqdn].some((value) => value?.toLowerCase() === wanted) };
}

function intersect(sets: IndexedTask[][]): IndexedTask[] {
  const [first, ...rest] = sets;
  if (!first) return [];
  const others = rest.map((set) => new Set(set.map((task) => task.task_id)));
  return first.filter((task) => others.every((set) => set.has(task.task_id)));
}

/** Candidate scans from the index: those naming every given key, newest first. */
async function candidateTasks(context: ServiceContext, input: SearchFindingsInput, cidr: CidrBlock | null): Promise<IndexedTask[]> {
  const { index } = context.tasks;
  const sets: Promise<IndexedTask[]>[] = [];
  if (input.cve) sets.push(index.tasksFor('cve', input.cve));
  if (input.plugin_id !== undefined) sets.push(index.tasksFor('plugin', String(input.plugin_id)));
  if (input.host) {
    if (cidr) {
      sets.push(
        (async () => {
          const names = (await index.hostNames()).filter((name) => {
            const address = parseIp(name);
            return address !== null && intervalContains(cidr, address);
          });
          const byHost = await index.tasksForHosts(names);
          const union = new Map<string, IndexedTask>();
          for (const tasks of byHost.values()) for (const task of tasks) union.set(task.task_id, task);
          return [...union.values()].sort((a, b) => b.completed_ms - a.completed_ms);
        })(),
      );
    } else sets.push(index.tasksFor('host', input.host));
  }
  return intersect(await Promise.all(sets));
}

function entriesOf(fingerprints: Fingerprints, input: SearchFindingsInput, matchHost: HostMatcher | null): number[] {
  let hostOk: Uint8Array | null = null;
  if (matchHost) {
    hostOk = new Uint8Array(fingerprints.hostIds.length);
    fingerprints.hostIds.forEach((_, code) => {
      hostOk![code] = matchHost(fingerprints.hostNames(code)) ? 1 : 0;
    });
  }
  const base = input.cve ? fingerprints.entriesWithCve(input.cve.toUpperCase()) : null;
  const out: number[] = [];
  const consider = (entry: number): void => {
    if (input.plugin_id !== undefined && fingerprints.pluginId(entry) !== input.plugin_id) return;
    if (hostOk && hostOk[fingerprints.hostCode(entry)] !== 1) return;
    out.push(entry);
  };
  if (base) base.forEach(consider);
  else for (let entry = 0; entry < fingerprints.size; entry += 1) consider(entry);
  return out;
}

function identityKey(fingerprints: Fingerprints, entry: number): string {
  return [fingerprints.hostOf(entry), fingerprints.port(entry), fingerprints.protocol(entry), fingerprints.pluginId(entry), fingerprints.check(entry)].join(
    '\u0000',
  );
}

/**
 * search_findings: occurrences of a CVE, plugin or host across every completed scan still in the
 * history (full store or fingerprint only). The index names the scans; their fingerprints (cached)
 * give the occurrences. `latest` keeps, per host, only the most recent scan that covered it.
 */
export async function searchFindings(context: ServiceContext, input: SearchFindingsInput): Promise<SearchPage> {
  if (!input.cve && input.plugin_id === undefined && !input.host) {
    throw new AppError('invalid_argument', 'search_findings: give at least one of cve, plugin_id or host', { details: { field: 'arguments' } });
  }
  const scope = input.scope ?? 'latest';
  const { page, pageSize, cursorStore } = searchWindow(context, input, scope);
  const hosts = input.host ? hostMatcher(input.host) : null;
  const candidates = await candidateTasks(context, input, hosts?.cidr ?? null);
  const version = candidatesVersion(candidates);
  if (cursorStore !== null && cursorStore !== version) {
    throw new AppError(
      'conflict',
      'cursor: scans were indexed or expired since this cursor was issued, so its pages no longer line up; start again from page 1',
      {
        details: { field: 'cursor' },
      },
    );
  }
  const records = await context.tasks.index.records(candidates.map((task) => task.task_id));

  const occurrences: Occurrence[] = [];
  const scans: { task: HistoryRecord; counts: Record<(typeof SEVERITY_NAMES)[number], number>; findings: number }[] = [];
  for (const candidate of candidates) {
    const task = records.get(candidate.task_id);
    if (!task) continue; // A posting left behind by a task whose history expired.
    const fingerprints = await loadFingerprints(context, candidate.task_id);
    if (!fingerprints) continue;
    const entries = entriesOf(fingerprints, input, hosts?.match ?? null);
    if (input.host && scope === 'history') {
      const counts = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
      for (const entry of entries) counts[SEVERITY_NAMES[fingerprints.severities[entry] ?? 0] ?? 'info'] += 1;
      scans.push({ task, counts, findings: entries.length });
    }
    for (const entry of entries) occurrences.push({ task, fingerprints, entry, key: identityKey(fingerprints, entry), hostId: fingerprints.hostOf(entry) });
  }

  // first_seen / last_seen / times_seen over every retained scan of the same identity.
  const seen = new Map<string, { first: string; last: string; times: number }>();
  for (const occurrence of occurrences) {
    const at = occurrence.task.completed_at;
    const known = seen.get(occurrence.key);
    if (!known) seen.set(occurrence.key, { first: at, last: at, times: 1 });
    else {
      if (at < known.first) known.first = at;
      if (at > known.last) known.last = at;
      known.times += 1;
    }
  }

  let listed = occurrences;
  if (scope === 'latest') {
    const latest = await latestScanPerHost(context, [...new Set(occurrences.map((occurrence) => occurrence.hostId))]);
    listed = occurrences.filter((occurrence) => latest.get(occurrence.hostId) === occurrence.task.task_id);
  }
  // Newest scan first; within a scan, identity order.
  listed.sort((a, b) => (a.task.completed_at < b.task.completed_at ? 1 : a.task.completed_at > b.task.completed_at ? -1 : a.entry - b.entry));

  const window = pageWindow(listed.length, page, pageSize);
  const lines = [
    JSON.stringify({
      type: 'schema',
      profile: 'occurrence',
      fields: OCCURRENCE_FIELDS,
      query: {
        ...(input.cve ? { cve: input.cve.toUpperCase() } : {}),
        ...(input.plugin_id !== undefined ? { plugin_id: input.plugin_id } : {}),
        ...(input.host ? { host: input.host } : {}),
      },
      scope,
      scans_searched: scansSearched(candidates, records),
      total_occurrences: listed.length,
      total_pages: window.total_pages,
    }),
    ...scans.map((scan) =>
      JSON.stringify({
        type: 'host_scan',
        host: input.host,
        task_id: scan.task.task_id,
        scan_completed_at: scan.task.completed_at,
        findings: scan.findings,
        severity_counts: scan.counts,
      }),
    ),
    ...listed.slice(window.start, window.end).map((occurrence) => {
      const { fingerprints: fp, entry, task } = occurrence;
      const history = seen.get(occurrence.key);
      return JSON.stringify({
        type: 'occurrence',
        host: occurrence.hostId,
        port: fp.port(entry),
        protocol: fp.protocol(entry),
        plugin_id: fp.pluginId(entry),
        plugin_name: fp.pluginName(entry),
        severity: fp.severities[entry] ?? 0,
        task_id: task.task_id,
        scan_completed_at: task.completed_at,
        first_seen: history?.first ?? task.completed_at,
        last_seen: history?.last ?? task.completed_at,
        times_seen: history?.times ?? 1,
      });
    }),
  ];
  const cursor =
    page !== 0 && window.next_page !== null
      ? context.results.cursorCodec.encode({
          kind: SEARCH_CURSOR_KIND,
          scope: searchScope(input, scope),
          store: version,
          page: window.next_page,
          query: { n: pageSize },
        })
      : null;
  if (page !== 0) lines.push(paginationLine(window, cursor));
  return { total: listed.length, total_pages: window.total_pages, lines, toText: () => `${lines.join('\n')}\n` };
}

function scansSearched(candidates: IndexedTask[], records: Map<string, HistoryRecord>): number {
  return candidates.filter((task) => records.has(task.task_id)).length;
}

/** Per host identity, the most recent indexed scan that covered it (whatever it found there). */
async function latestScanPerHost(context: ServiceContext, hostIds: string[]): Promise<Map<string, string>> {
  const { index } = context.tasks;
  const byHost = await index.tasksForHosts(hostIds);
  const ids = [...new Set([...byHost.values()].flatMap((tasks) => tasks.map((task) => task.task_id)))];
  const live = await index.records(ids);
  const latest = new Map<string, string>();
  for (const [host, tasks] of byHost) {
    const newest = tasks.find((task) => live.has(task.task_id));
    if (newest) latest.set(host, newest.task_id);
  }
  return latest;
}
