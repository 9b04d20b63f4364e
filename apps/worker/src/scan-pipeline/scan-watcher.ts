import { TERMINAL_SCAN_STATES, mapNessusStatus, type ScannerRegistry } from '@nessus-mcp/scanners';
import type { Logger } from '@nessus-mcp/core';

/** What waking a parked scan job found: `busy` = it is running a step now, ask again next tick. */
export type WakeOutcome = 'woken' | 'busy' | 'gone';

export interface ScanWatcherOptions {
  registry: () => ScannerRegistry;
  /** Moves the task's delayed job to the wait list now. */
  wake: (pool: string, taskId: string) => Promise<WakeOutcome>;
  /** Records a running scan's new status word on its task (e.g. `pending` → `running`, `paused`). */
  recordStatus: (taskId: string, rawStatus: string) => Promise<void>;
  /** Time between two looks at each watched instance. */
  intervalMs: number;
  /** How often a watched scan's own job still polls it (progress, and a safety net should this process die). */
  fallbackPollMs: number;
  /** A scan whose job was woken is not woken again sooner than this, should Nessus's list and details disagree. */
  rewakeAfterMs: number;
  logger: Logger;
}

interface WatchedScan {
  pool: string;
  instanceId: string;
  scanId: string;
  taskId: string;
  /** The status word last recorded on the task. */
  rawStatus: string;
}

/**
 * Notices scans ending on Nessus with one `GET /scans` per instance per tick, however many scans
 * run there, and wakes their parked jobs. Polling each scan from its own job cost about 80 Redis
 * commands per poll (BullMQ moves the job delayed → active → delayed, the step records state);
 * with the watcher the jobs stay parked for `fallbackPollMs` and a tick costs Redis nothing.
 * The watched set lives in memory only: the delayed job remains the record, and its fallback
 * poll, or `adopt` (at start-up and then every `watchAdoptMs`, for the parked jobs of every
 * worker), puts a scan back under watch after a restart or when the worker watching it died.
 */
export class ScanWatcher {
  private readonly watched = new Map<string, WatchedScan>();
  private readonly wokenAt = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly options: ScanWatcherOptions) {}

  get fallbackPollMs(): number {
    return this.options.fallbackPollMs;
  }

  get size(): number {
    return this.watched.size;
  }

  start(): void {
    this.schedule();
  }

  watch(scan: WatchedScan): void {
    if (this.closed) return;
    this.watched.set(scan.taskId, scan);
  }

  /** Watches a scan found parked by listing the queue, unless it is watched already (its own job's entry is newer). */
  adopt(scan: WatchedScan): void {
    if (!this.watched.has(scan.taskId)) this.watch(scan);
  }

  unwatch(taskId: string): void {
    this.watched.delete(taskId);
    this.wokenAt.delete(taskId);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    this.watched.clear();
  }

  /** One look at every instance with watched scans; exposed for tests. */
  async tick(): Promise<void> {
    for (const [taskId, at] of this.wokenAt) if (Date.now() - at >= this.options.rewakeAfterMs) this.wokenAt.delete(taskId);
    const byInstance = new Map<string, WatchedScan[]>();
    for (const scan of this.watched.values()) {
      const key = `${scan.pool}\u0000${scan.instanceId}`;
      byInstance.set(key, [...(byInstance.get(key) ?? []), scan]);
    }
    await Promise.all([...byInstance.values()].map((scans) => this.checkInstance(scans)));
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((error: unknown) => this.options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'scan watcher tick failed'))
        .finally(() => {
          this.running = null;
          this.schedule();
        });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async checkInstance(scans: WatchedScan[]): Promise<void> {
    const { pool, instanceId } = scans[0]!;
    let listed;
    try {
      const scanner = this.options.registry().getScanner(pool, instanceId);
      listed = await scanner.listOwnScans(AbortSignal.timeout(Math.max(5_000, this.options.intervalMs * 5)));
    } catch (error) {
      // The jobs' own polls report a scanner that stays unreachable; here it only delays the wake.
      this.options.logger.debug(
        { scanner_pool: pool, scanner_instance: instanceId, err: error instanceof Error ? error.message : String(error) },
        'scan watcher could not list scans',
      );
      return;
    }
    const statusOf = new Map(listed.map((scan) => [scan.scanId, scan.rawStatus]));
    for (const scan of scans) {
      const raw = statusOf.get(scan.scanId);
      // A scan missing from the list is left to its job's own poll, which reports what Nessus says.
      if (raw === undefined) continue;
      if (!TERMINAL_SCAN_STATES.has(mapNessusStatus(raw))) {
        if (raw !== scan.rawStatus) {
          // One write per change, so list_tasks shows what Nessus says between the jobs' rare polls.
          await this.options.recordStatus(scan.taskId, raw).then(
            () => (scan.rawStatus = raw),
            (error: unknown) =>
              this.options.logger.debug(
                { task_id: scan.taskId, err: error instanceof Error ? error.message : String(error) },
                'scan watcher could not record a status',
              ),
          );
        }
        continue;
      }
      const woken = this.wokenAt.get(scan.taskId);
      if (woken !== undefined && Date.now() - woken < this.options.rewakeAfterMs) continue;
      let outcome: WakeOutcome;
      try {
        outcome = await this.options.wake(scan.pool, scan.taskId);
      } catch (error) {
        this.options.logger.debug(
          { task_id: scan.taskId, err: error instanceof Error ? error.message : String(error) },
          'scan watcher could not wake a job; trying again next tick',
        );
        continue;
      }
      if (outcome === 'busy') continue;
      // The entry may have been replaced by a newer poll of the same task since this tick began.
      if (this.watched.get(scan.taskId) === scan) this.watched.delete(scan.taskId);
      if (outcome === 'woken') {
        this.wokenAt.set(scan.taskId, Date.now());
        this.options.logger.debug({ task_id: scan.taskId, nessus_scan_id: scan.scanId, raw_status: raw }, 'scan ended on nessus; woke its job');
      }
    }
  }
}
