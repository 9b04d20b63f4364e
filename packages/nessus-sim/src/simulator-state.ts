import { randomBytes, randomUUID } from 'node:crypto';
import type { ApiCredentials } from './auth.js';
import { SessionStore } from './auth.js';
import type { ExportMode, Faults } from './faults.js';
import type { HostTemplate } from './host-templates.js';
import type { ScanRun } from './scan-state.js';
import { advanceRun } from './scan-state.js';
import type { CredentialVerdict, ValidSshCredentials } from './ssh-credentials.js';
import { StatsCounter } from './stats.js';
import type { ExpandedTargets } from './targets.js';

export interface Folder {
  id: number;
  name: string;
  type: 'trash' | 'main' | 'custom';
  default_tag: 0 | 1;
  custom: 0 | 1;
  unread_count: number | null;
}

// Stock folder ids: Trash 2, My Scans 3 (seccubus#631 capture).
export const TRASH_FOLDER_ID = 2;
export const MY_SCANS_FOLDER_ID = 3;

export interface ScanRecord {
  readonly id: number;
  /** `schedule_uuid`, fixed for the scan's life (runs get their own uuid). */
  readonly scheduleUuid: string;
  name: string;
  description: string;
  folderId: number;
  readonly templateUuid: string;
  readonly policyName: string;
  textTargets: string;
  targets: ExpandedTargets;
  /** The verdict on the SSH credentials given at creation; the secrets are not kept. */
  readonly credentials: CredentialVerdict;
  readonly createdAtMs: number;
  modifiedAtMs: number;
  readonly owner: string;
  readonly runs: ScanRun[];
}

export interface ExportRecord {
  readonly file: number;
  readonly token: string;
  readonly scanId: number;
  readonly historyId: number;
  /** `export_mode` when the export was requested. */
  readonly mode: ExportMode;
  statusPolls: number;
}

/** `GET /_sim/runs` body: how busy this instance is and when each run began and ended. */
export interface RunsReport {
  active: number;
  /** Most runs active at once since the last reset (counted at each launch). */
  peak_active: number;
  /** Launches refused because `max_concurrent_scans` runs were active. */
  refused_launches: number;
  runs: { scan_id: number; name: string; history_id: number; status: string; launched_at_ms: number; ended_at_ms: number | null }[];
}

export class SimulatorState {
  readonly sessions: SessionStore;
  readonly stats = new StatsCounter();
  folders: Folder[] = [];
  readonly scans = new Map<number, ScanRecord>();
  readonly exports = new Map<number, ExportRecord>();
  private nextScanId = 5;
  private nextFolderId = 4;
  private nextHistoryId = 10;
  peakActiveRuns = 0;
  refusedLaunches = 0;
  readonly serverUuid = randomUUID();

  constructor(
    readonly clock: () => number,
    readonly random: () => number,
    readonly credentials: ApiCredentials,
    readonly validSsh: ValidSshCredentials,
    readonly templates: readonly HostTemplate[],
    private readonly faultsRef: () => Faults,
  ) {
    this.sessions = new SessionStore(clock, () => this.faultsRef().session_ttl_s);
    this.reset();
  }

  get faults(): Faults {
    return this.faultsRef();
  }

  /** How many runs each target address has been part of (drift numbers the runs of a target). */
  private readonly targetRuns = new Map<string, number>();

  /** Counts a run of each host and returns which run of it this is (1 = first). */
  countRuns(addresses: readonly string[]): number[] {
    return addresses.map((address) => {
      const run = (this.targetRuns.get(address) ?? 0) + 1;
      this.targetRuns.set(address, run);
      return run;
    });
  }

  reset(): void {
    this.targetRuns.clear();
    this.sessions.clear();
    this.stats.reset();
    this.scans.clear();
    this.exports.clear();
    this.folders = [
      { unread_count: null, custom: 0, default_tag: 0, type: 'trash', name: 'Trash', id: TRASH_FOLDER_ID },
      { unread_count: null, custom: 0, default_tag: 1, type: 'main', name: 'My Scans', id: MY_SCANS_FOLDER_ID },
    ];
    this.nextScanId = 5;
    this.nextFolderId = 4;
    this.nextHistoryId = 10;
    this.peakActiveRuns = 0;
    this.refusedLaunches = 0;
  }

  allocateScanId(): number {
    return this.nextScanId++;
  }

  allocateFolderId(): number {
    return this.nextFolderId++;
  }

  allocateHistoryId(): number {
    return this.nextHistoryId++;
  }

  /** A random export file id, as large as the ones real servers hand out (e.g. 1911844196). */
  allocateExportFile(): { file: number; token: string } {
    let file: number;
    do file = 1_000_000_000 + Math.floor(this.random() * 1_000_000_000);
    while (this.exports.has(file));
    return { file, token: randomBytes(32).toString('hex') };
  }

  /** The scan's latest run, advanced to now. */
  latestRun(scan: ScanRecord): ScanRun | undefined {
    const run = scan.runs.at(-1);
    if (run) advanceRun(run, this.clock());
    return run;
  }

  activeRunCount(): number {
    let active = 0;
    for (const scan of this.scans.values()) {
      const run = this.latestRun(scan);
      if (run && !['completed', 'canceled', 'aborted'].includes(run.status)) active += 1;
    }
    return active;
  }

  runsReport(): RunsReport {
    const runs: RunsReport['runs'] = [];
    for (const scan of this.scans.values()) {
      for (const run of scan.runs) {
        advanceRun(run, this.clock());
        runs.push({
          scan_id: scan.id,
          name: scan.name,
          history_id: run.historyId,
          status: run.status,
          launched_at_ms: run.launchedAtMs,
          ended_at_ms: run.endedAtMs,
        });
      }
    }
    return { active: this.activeRunCount(), peak_active: this.peakActiveRuns, refused_launches: this.refusedLaunches, runs };
  }
}
