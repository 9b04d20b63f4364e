import { FOLDER_NOT_FOUND } from './folder-routes.js';
import { isRecord, NessusHttpError, sendEmpty, sendJson } from './http-replies.js';
import type { Router, RouteContext } from './router.js';
import type { ScanRun } from './scan-state.js';
import { advanceRun, hostProgress, isTerminal, killRun, newRun, pauseRun, resumeRun, runProgress, StateConflict, stopRun } from './scan-state.js';
import { nessusUuid, templateByUuid } from './scan-templates.js';
import type { ScanRecord, SimulatorState } from './simulator-state.js';
import { MY_SCANS_FOLDER_ID } from './simulator-state.js';
import type { CredentialVerdict } from './ssh-credentials.js';
import { CredentialsError, judgeScanCredentials } from './ssh-credentials.js';
import type { ExpandedTargets } from './targets.js';
import { expandTargets, TargetError } from './targets.js';

export const SCAN_NOT_FOUND = 'The requested scan was not found';
// Status and texts of the Nessus 6 built-in /api docs for delete and launch: a conflict is a 500,
// not a 409 (reancloud/Nessus6 scan.rb).
const CANNOT_DELETE = 'Failed to delete the scan. This may be because the scan is currently running';
const ALREADY_RUNNING = 'Failed to launch scan. This is usually due to the scan already running.';
// How a real scanner answers a launch past its concurrent-scan limit is not public: a 500 like the
// documented launch conflict is the guess, so a client that respects the limit never sees it.
const AT_CAPACITY = 'Failed to launch scan. The scanner is already running its maximum number of concurrent scans.';
const HOST_CHECKS_TOTAL = 100;

const seconds = (ms: number): number => Math.floor(ms / 1000);

function parseTargets(text: string): ExpandedTargets {
  try {
    return expandTargets(text);
  } catch (error) {
    if (error instanceof TargetError) throw new NessusHttpError(400, error.message);
    throw error;
  }
}

function judgeCredentials(state: SimulatorState, credentials: unknown, settings: Record<string, unknown>): CredentialVerdict {
  try {
    return judgeScanCredentials(credentials, settings, state.validSsh);
  } catch (error) {
    if (error instanceof CredentialsError) throw new NessusHttpError(400, error.message);
    throw error;
  }
}

function requireScan(state: SimulatorState, idText: string | undefined): ScanRecord {
  const scan = state.scans.get(Number(idText));
  if (!scan || !/^\d+$/.test(idText ?? '')) throw new NessusHttpError(404, SCAN_NOT_FOUND);
  return scan;
}

function folderIdFrom(state: SimulatorState, value: unknown): number {
  const id = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof id !== 'number' || !state.folders.some((folder) => folder.id === id)) {
    throw new NessusHttpError(404, FOLDER_NOT_FOUND);
  }
  return id;
}

function targetsText(value: unknown): string {
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.join(',');
  if (typeof value === 'string') return value;
  throw new NessusHttpError(400, 'text_targets must be a string of comma or newline separated targets');
}

export function scanStatus(state: SimulatorState, scan: ScanRecord): string {
  return statusWord(state, state.latestRun(scan));
}

/** The run's status as clients see it: `running_status` stands in for `running`. */
function statusWord(state: SimulatorState, run: ScanRun | undefined): string {
  if (!run) return 'empty';
  return run.status === 'running' && state.faults.running_status !== null ? state.faults.running_status : run.status;
}

function lastModified(scan: ScanRecord, run: ScanRun | undefined): number {
  return seconds(Math.max(scan.modifiedAtMs, run?.lastChangeMs ?? 0));
}

/** A `scans[]` entry of `GET /scans`, keys as in the seccubus#631 capture. */
function listEntry(state: SimulatorState, scan: ScanRecord): Record<string, unknown> {
  const run = state.latestRun(scan);
  return {
    folder_id: scan.folderId,
    type: run ? 'local' : null,
    read: true,
    last_modification_date: lastModified(scan, run),
    creation_date: seconds(scan.createdAtMs),
    status: statusWord(state, run),
    uuid: run?.uuid ?? null,
    shared: false,
    user_permissions: 128,
    owner: scan.owner,
    schedule_uuid: scan.scheduleUuid,
    timezone: null,
    rrules: null,
    starttime: null,
    enabled: false,
    control: true,
    live_results: 0,
    name: scan.name,
    id: scan.id,
  };
}

/** The `scan` object of `POST /scans` (B.3.4). */
function createdScanBody(scan: ScanRecord): Record<string, unknown> {
  return {
    id: scan.id,
    uuid: scan.scheduleUuid,
    name: scan.name,
    type: 'public',
    owner: scan.owner,
    owner_id: 1,
    policy_id: scan.id + 1000,
    scanner_id: 1,
    folder_id: scan.folderId,
    enabled: false,
    creation_date: seconds(scan.createdAtMs),
    last_modification_date: seconds(scan.modifiedAtMs),
    custom_targets: scan.textTargets,
    description: scan.description,
    emails: null,
    rrules: null,
    starttime: null,
    timezone: null,
    shared: 0,
    tag_id: scan.folderId,
    user_permissions: 128,
    default_permisssions: 0,
    notification_filter_type: 'and',
    notification_filters: null,
    sms: null,
    tag_type: null,
  };
}

function hostsOf(state: SimulatorState, run: ScanRun | undefined, limit: number): Record<string, unknown>[] {
  if (!run || run.status === 'pending') return [];
  const now = state.clock();
  const progress = runProgress(run, now);
  const count = run.targets.hosts.length;
  const hosts: Record<string, unknown>[] = [];
  for (let index = 0; index < count && hosts.length < limit; index += 1) {
    const fraction = run.status === 'completed' ? 1 : hostProgress(index, count, progress);
    if (fraction <= 0) continue;
    const current = Math.floor(fraction * HOST_CHECKS_TOTAL);
    const template = state.templates[index % state.templates.length];
    const counts = fraction >= 1 && template ? template.severityCounts : [0, 0, 0, 0, 0];
    const [info = 0, low = 0, medium = 0, high = 0, critical = 0] = counts;
    hosts.push({
      asset_id: index + 1,
      host_id: index + 1,
      host_index: index,
      hostname: run.targets.hosts[index]?.name,
      progress: `${current}-${current}/${HOST_CHECKS_TOTAL}-${HOST_CHECKS_TOTAL}`,
      scanprogresscurrent: current,
      scanprogresstotal: HOST_CHECKS_TOTAL,
      numchecksconsidered: current,
      totalchecksconsidered: HOST_CHECKS_TOTAL,
      critical,
      high,
      medium,
      low,
      info,
      severity: critical + high + medium + low + info,
      score: critical * 10000 + high * 1000 + medium * 100 + low * 10 + info,
      severitycount: {
        item: [info, low, medium, high, critical].map((count, severitylevel) => ({ count, severitylevel })),
      },
    });
  }
  return hosts;
}

function vulnerabilitiesOf(state: SimulatorState, run: ScanRun | undefined): Record<string, unknown>[] {
  if (!run) return [];
  const progress = runProgress(run, state.clock());
  const count = run.targets.hosts.length;
  const perTemplate = new Array<number>(state.templates.length).fill(0);
  for (let index = 0; index < count; index += 1) {
    if (run.status === 'completed' || hostProgress(index, count, progress) >= 1) {
      const slot = index % state.templates.length;
      perTemplate[slot] = (perTemplate[slot] ?? 0) + 1;
    }
  }
  const byPlugin = new Map<number, Record<string, unknown> & { count: number; severity: number }>();
  state.templates.forEach((template, slot) => {
    const hostsDone = perTemplate[slot] ?? 0;
    if (hostsDone === 0) return;
    for (const plugin of template.plugins) {
      const entry = byPlugin.get(plugin.pluginId);
      if (entry) entry.count += hostsDone;
      else
        byPlugin.set(plugin.pluginId, {
          plugin_id: plugin.pluginId,
          plugin_name: plugin.pluginName,
          plugin_family: plugin.pluginFamily,
          count: hostsDone,
          vuln_index: byPlugin.size,
          severity_index: 0,
          severity: plugin.severity,
        });
    }
  });
  return [...byPlugin.values()].sort((a, b) => b.severity - a.severity);
}

function historyOf(scan: ScanRecord): Record<string, unknown>[] {
  return scan.runs.map((run) => ({
    history_id: run.historyId,
    uuid: run.uuid,
    owner_id: 1,
    status: run.status,
    type: 'local',
    alt_targets_used: run.altTargetsUsed,
    scheduler: 0,
    is_archived: false,
    creation_date: seconds(run.launchedAtMs),
    last_modification_date: seconds(run.lastChangeMs),
  }));
}

export function scanDetails(state: SimulatorState, scan: ScanRecord, query: URLSearchParams): Record<string, unknown> {
  const historyParam = query.get('history_id');
  let run = state.latestRun(scan);
  if (historyParam !== null) {
    run = scan.runs.find((candidate) => String(candidate.historyId) === historyParam);
    if (!run) throw new NessusHttpError(404, 'The requested history was not found');
    advanceRun(run, state.clock());
  }
  const limitParam = query.get('limit');
  const limit = limitParam !== null && /^\d+$/.test(limitParam) ? Number(limitParam) : Number.POSITIVE_INFINITY;
  const hosts = hostsOf(state, run, limit);
  const started = run?.startedAtMs ?? null;
  const ended = run?.endedAtMs ?? null;
  return {
    info: {
      acls: [
        { permissions: 0, owner: null, display_name: null, name: null, id: null, type: 'default' },
        { permissions: 128, owner: 1, display_name: scan.owner, name: scan.owner, id: 1, type: 'user' },
      ],
      edit_allowed: true,
      status: statusWord(state, run),
      policy: scan.policyName,
      'pci-can-upload': false,
      hasaudittrail: false,
      scan_start: started === null ? null : seconds(started),
      folder_id: scan.folderId,
      targets: run ? run.targets.tokens.join(',') : scan.textTargets,
      timestamp: seconds(state.clock()),
      object_id: scan.id,
      scanner_name: 'Local Scanner',
      haskb: true,
      uuid: run?.uuid ?? null,
      hostcount: run ? run.targets.hosts.length : 0,
      scan_end: ended === null ? null : seconds(ended),
      scanner_start: started === null ? null : seconds(started),
      scanner_end: ended === null ? null : seconds(ended),
      name: scan.name,
      user_permissions: 128,
      control: true,
      schedule_uuid: scan.scheduleUuid,
      shared: false,
      scan_type: 'local',
      alt_targets_used: run?.altTargetsUsed ?? false,
      no_target: false,
      owner: scan.owner,
    },
    hosts,
    comphosts: [],
    vulnerabilities: vulnerabilitiesOf(state, run),
    compliance: [],
    history: historyOf(scan),
    notes: null,
    remediations: { remediations: null, num_hosts: hosts.length, num_cves: 0, num_impacted_hosts: 0, num_remediated_cves: 0 },
    filters: [],
  };
}

function launchScan(state: SimulatorState, scan: ScanRecord, altTargets: ExpandedTargets | undefined): ScanRun {
  const now = state.clock();
  const current = state.latestRun(scan);
  if (current && !isTerminal(current.status)) throw new NessusHttpError(500, ALREADY_RUNNING);
  const limit = state.faults.max_concurrent_scans;
  const active = state.activeRunCount();
  if (limit !== null && active >= limit) {
    state.refusedLaunches += 1;
    throw new NessusHttpError(500, AT_CAPACITY);
  }
  state.peakActiveRuns = Math.max(state.peakActiveRuns, active + 1);
  const historyId = state.allocateHistoryId();
  const targets = altTargets ?? scan.targets;
  const run = newRun({
    historyId,
    uuid: nessusUuid(`run:${scan.id}:${historyId}:${now}:${state.random()}`),
    now,
    targets,
    altTargetsUsed: altTargets !== undefined,
    scanSeconds: state.faults.scan_seconds,
    outcome: state.faults.scan_outcome,
    hostRuns: state.countRuns(targets.hosts.map((host) => host.ip)),
    drift: state.faults.drift,
  });
  scan.runs.push(run);
  state.stats.launched(scan.name);
  return run;
}

function control(state: SimulatorState, ctx: RouteContext, action: (run: ScanRun, now: number) => void, countsAsStop: boolean): void {
  const scan = requireScan(state, ctx.params['id']);
  const run = state.latestRun(scan);
  if (!run) throw new NessusHttpError(409, 'Scan has never been launched');
  const before = run.status;
  try {
    action(run, state.clock());
  } catch (error) {
    if (error instanceof StateConflict) throw new NessusHttpError(409, error.message);
    throw error;
  }
  if (countsAsStop && before !== run.status) state.stats.stopped(scan.name);
  sendEmpty(ctx.res);
}

function settingsOf(body: unknown): Record<string, unknown> {
  if (!isRecord(body)) throw new NessusHttpError(400, 'Request body must be a JSON object');
  const settings = body['settings'];
  if (!isRecord(settings)) throw new NessusHttpError(400, "Missing 'settings' object");
  return settings;
}

function optionalString(settings: Record<string, unknown>, key: string): string | undefined {
  const value = settings[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new NessusHttpError(400, `settings.${key} must be a string`);
  return value;
}

/** `/scans` and `/scans/{id}/...`: the scan lifecycle of B.3.4–B.3.9 and the state machine of B.4. */
export function registerScanRoutes(router: Router, state: SimulatorState): void {
  router.add({
    method: 'POST',
    path: '/scans',
    auth: true,
    licenceGated: true,
    handler: ({ res, body, username }) => {
      const uuid = isRecord(body) ? body['uuid'] : undefined;
      if (typeof uuid !== 'string' || uuid.length === 0) throw new NessusHttpError(400, "Missing 'uuid' field (template uuid)");
      const template = templateByUuid(uuid);
      if (!template) throw new NessusHttpError(400, `Invalid 'uuid': no scan template has uuid ${uuid}`);
      const settings = settingsOf(body);
      const name = optionalString(settings, 'name');
      if (!name || name.trim().length === 0) throw new NessusHttpError(400, "Missing 'settings.name' field");
      if (settings['text_targets'] === undefined || settings['text_targets'] === null) {
        throw new NessusHttpError(400, "Missing 'settings.text_targets' field");
      }
      const textTargets = targetsText(settings['text_targets']);
      const targets = parseTargets(textTargets);
      const folderId = settings['folder_id'] === undefined ? MY_SCANS_FOLDER_ID : folderIdFrom(state, settings['folder_id']);
      const credentials = judgeCredentials(state, isRecord(body) ? body['credentials'] : undefined, settings);
      const now = state.clock();
      const id = state.allocateScanId();
      const scan: ScanRecord = {
        id,
        scheduleUuid: `template-${nessusUuid(`schedule:${id}:${now}:${state.random()}`).slice(0, 36)}`,
        name,
        description: optionalString(settings, 'description') ?? '',
        folderId,
        templateUuid: uuid,
        policyName: template.title,
        textTargets,
        targets,
        credentials,
        createdAtMs: now,
        modifiedAtMs: now,
        owner: username ?? state.credentials.username,
        runs: [],
      };
      state.scans.set(id, scan);
      state.stats.created(name);
      if (settings['launch_now'] === true) launchScan(state, scan, undefined);
      sendJson(res, 200, { scan: createdScanBody(scan) });
    },
  });

  router.add({
    method: 'GET',
    path: '/scans',
    auth: true,
    licenceGated: false,
    handler: ({ res, query }) => {
      const folderParam = query.get('folder_id');
      const sinceParam = query.get('last_modification_date');
      const since = sinceParam !== null && /^\d+$/.test(sinceParam) ? Number(sinceParam) : undefined;
      const scans = [...state.scans.values()]
        .filter((scan) => folderParam === null || String(scan.folderId) === folderParam)
        .map((scan) => listEntry(state, scan))
        .filter((entry) => since === undefined || (entry['last_modification_date'] as number) > since);
      // B.3.6: `scans` is null, not [], when there are none.
      sendJson(res, 200, {
        folders: state.folders,
        scans: scans.length > 0 ? scans : null,
        timestamp: seconds(state.clock()),
      });
    },
  });

  router.add({
    method: 'DELETE',
    path: '/scans',
    auth: true,
    licenceGated: false,
    handler: ({ res, body }) => {
      const ids = isRecord(body) ? body['ids'] : undefined;
      if (!Array.isArray(ids)) throw new NessusHttpError(400, "Missing 'ids' array");
      const deleted: number[] = [];
      for (const id of ids) {
        const scan = state.scans.get(Number(id));
        const run = scan ? state.latestRun(scan) : undefined;
        if (!scan || (run && !isTerminal(run.status))) continue;
        state.scans.delete(scan.id);
        state.stats.deleted();
        deleted.push(scan.id);
      }
      sendJson(res, 200, { deleted });
    },
  });

  router.add({
    method: 'GET',
    path: '/scans/:id',
    auth: true,
    licenceGated: false,
    handler: ({ res, params, query }) => sendJson(res, 200, scanDetails(state, requireScan(state, params['id']), query)),
  });

  router.add({
    method: 'PUT',
    path: '/scans/:id',
    auth: true,
    licenceGated: true,
    handler: ({ res, params, body }) => {
      const scan = requireScan(state, params['id']);
      if (!isRecord(body)) throw new NessusHttpError(400, 'Request body must be a JSON object');
      // eafonin moves scans with `PUT /scans/{id}` `{"folder_id": n}` (B.3.9), so accept it at the top level too.
      const settings = isRecord(body['settings']) ? body['settings'] : body;
      const name = optionalString(settings, 'name');
      const description = optionalString(settings, 'description');
      const hasTargets = settings['text_targets'] !== undefined && settings['text_targets'] !== null;
      const textTargets = hasTargets ? targetsText(settings['text_targets']) : undefined;
      const targets = textTargets === undefined ? undefined : parseTargets(textTargets);
      const folderId = settings['folder_id'] === undefined ? undefined : folderIdFrom(state, settings['folder_id']);
      if (name !== undefined && name.trim().length > 0) scan.name = name;
      if (description !== undefined) scan.description = description;
      if (textTargets !== undefined && targets !== undefined) {
        scan.textTargets = textTargets;
        scan.targets = targets;
      }
      if (folderId !== undefined) scan.folderId = folderId;
      scan.modifiedAtMs = state.clock();
      sendJson(res, 200, createdScanBody(scan));
    },
  });

  router.add({
    method: 'DELETE',
    path: '/scans/:id',
    auth: true,
    licenceGated: true,
    handler: ({ res, params }) => {
      const scan = requireScan(state, params['id']);
      const run = state.latestRun(scan);
      if (run && !isTerminal(run.status)) throw new NessusHttpError(500, CANNOT_DELETE);
      state.scans.delete(scan.id);
      for (const [file, record] of state.exports) if (record.scanId === scan.id) state.exports.delete(file);
      state.stats.deleted();
      sendEmpty(res);
    },
  });

  router.add({
    method: 'PUT',
    path: '/scans/:id/folder',
    auth: true,
    licenceGated: false,
    handler: ({ res, params, body }) => {
      const scan = requireScan(state, params['id']);
      scan.folderId = folderIdFrom(state, isRecord(body) ? body['folder_id'] : undefined);
      scan.modifiedAtMs = state.clock();
      sendEmpty(res);
    },
  });

  router.add({
    method: 'POST',
    path: '/scans/:id/copy',
    auth: true,
    licenceGated: true,
    handler: ({ res, params, body }) => {
      const source = requireScan(state, params['id']);
      const options = isRecord(body) ? body : {};
      const requestedName = options['name'];
      const name = typeof requestedName === 'string' && requestedName.length > 0 ? requestedName : `Copy of ${source.name}`;
      const folderId = options['folder_id'] === undefined ? source.folderId : folderIdFrom(state, options['folder_id']);
      const now = state.clock();
      const id = state.allocateScanId();
      const copy: ScanRecord = {
        ...source,
        id,
        scheduleUuid: `template-${nessusUuid(`schedule:${id}:${now}:${state.random()}`).slice(0, 36)}`,
        name,
        folderId,
        createdAtMs: now,
        modifiedAtMs: now,
        runs: [],
      };
      state.scans.set(id, copy);
      state.stats.created(name);
      sendJson(res, 200, listEntry(state, copy));
    },
  });

  router.add({
    method: 'POST',
    path: '/scans/:id/launch',
    auth: true,
    licenceGated: true,
    handler: ({ res, params, body }) => {
      const scan = requireScan(state, params['id']);
      const alt = isRecord(body) ? body['alt_targets'] : undefined;
      const altTargets = alt === undefined || alt === null || (Array.isArray(alt) && alt.length === 0) ? undefined : parseTargets(targetsText(alt));
      const run = launchScan(state, scan, altTargets);
      sendJson(res, 200, { scan_uuid: run.uuid });
    },
  });

  router.add({
    method: 'POST',
    path: '/scans/:id/stop',
    auth: true,
    licenceGated: true,
    handler: (ctx) => control(state, ctx, stopRun, true),
  });
  router.add({
    method: 'POST',
    path: '/scans/:id/pause',
    auth: true,
    licenceGated: true,
    handler: (ctx) => control(state, ctx, pauseRun, false),
  });
  router.add({
    method: 'POST',
    path: '/scans/:id/resume',
    auth: true,
    licenceGated: true,
    handler: (ctx) => control(state, ctx, resumeRun, false),
  });
  // Not in B.2's licence list: `kill` is a local-scanner operation.
  router.add({
    method: 'POST',
    path: '/scans/:id/kill',
    auth: true,
    licenceGated: false,
    handler: (ctx) => control(state, ctx, killRun, true),
  });
}
