/**
 * Fault switches, settable at start (options, CLI flags) and at run time (`PUT /_sim/faults`).
 * The key names and value sets are part of the external contract (docs/simulator.md, "Control
 * control"); `download_mode` and the real-Nessus modes (`licence_412: "reset"`, the export
 * modes `error_500_then_404` and `lost`, `download_mode: "chunked"`, `server_loading`,
 * `running_status`, `session_refusal`, `max_concurrent_scans`) are this package's additions, documented in its README
 * with which of them were seen on real servers.
 */

export type Licence412Mode = 'clean' | 'drop' | 'empty' | 'reset';
export type ExportMode = 'ok' | 'stuck' | 'error' | 'error_500_then_404' | 'lost';
export type ScanOutcome = 'completed' | 'aborted';
export type DownloadMode = 'ok' | 'slow' | 'truncated' | 'expired' | 'chunked';
export type SessionRefusal = 'too_many_users' | 'locked';

export interface Faults {
  /** Answer the scan-control endpoints of docs/nessus-api.md §B.2 with 412; `null` = licence allows the API. */
  licence_412: Licence412Mode | null;
  /** Share (0–1) of API calls answered with 500 or 503. */
  error_rate: number;
  /** Delay added before every API answer. */
  latency_ms: number;
  /** Idle lifetime of a `POST /session` token; `null` = never expires. */
  session_ttl_s: number | null;
  export_mode: ExportMode;
  scan_outcome: ScanOutcome;
  /** Running time of one scan launch. */
  scan_seconds: number;
  download_mode: DownloadMode;
  /** `/server/status` answers 503 `loading` at this progress (0–100), other API calls 503; `null` = ready. */
  server_loading: number | null;
  /** The status word `GET /scans` and `GET /scans/{id}` report in place of `running`; `null` = `running`. */
  running_status: string | null;
  /** `POST /session` refuses every login this way; `null` = logins work. */
  session_refusal: SessionRefusal | null;
  /** How much repeated scans of a target differ (0–1, see drift.ts); 0 = every scan identical. */
  drift: number;
  /** Launches beyond this many active runs are refused; `null` = no limit. */
  max_concurrent_scans: number | null;
}

export type FaultPatch = Partial<Faults>;

export const DEFAULT_FAULTS: Readonly<Faults> = Object.freeze({
  licence_412: null,
  error_rate: 0,
  latency_ms: 0,
  // Nessus' own default idle timeout is 30 minutes (`idle_timeout` in /server/properties).
  session_ttl_s: 1800,
  export_mode: 'ok',
  scan_outcome: 'completed',
  scan_seconds: 5,
  download_mode: 'ok',
  server_loading: null,
  running_status: null,
  session_refusal: null,
  // A few percent of findings change between two scans of a target, as on a real network week
  // to week. Test harnesses start the simulator with 0 so their exports stay identical.
  drift: 0.03,
  max_concurrent_scans: null,
});

export class FaultValidationError extends Error {
  override readonly name = 'FaultValidationError';
}

const LICENCE_MODES: readonly Licence412Mode[] = ['clean', 'drop', 'empty', 'reset'];
const EXPORT_MODES: readonly ExportMode[] = ['ok', 'stuck', 'error', 'error_500_then_404', 'lost'];
const SCAN_OUTCOMES: readonly ScanOutcome[] = ['completed', 'aborted'];
const DOWNLOAD_MODES: readonly DownloadMode[] = ['ok', 'slow', 'truncated', 'expired', 'chunked'];
const SESSION_REFUSALS: readonly SessionRefusal[] = ['too_many_users', 'locked'];
const FAULT_KEYS: readonly (keyof Faults)[] = Object.keys(DEFAULT_FAULTS) as (keyof Faults)[];

function quoteList(values: readonly string[]): string {
  return values.map((value) => `"${value}"`).join(', ');
}

function oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new FaultValidationError(`${key} must be one of ${quoteList(allowed)}; got ${JSON.stringify(value)}`);
}

function finiteNumber(key: string, value: unknown, min: number, max = Number.POSITIVE_INFINITY): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = Number.isFinite(max) ? `between ${min} and ${max}` : `a number >= ${min}`;
    throw new FaultValidationError(`${key} must be ${range}; got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks an untrusted patch (a parsed JSON body or CLI values) and returns it typed. */
export function validateFaultPatch(input: unknown): FaultPatch {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new FaultValidationError('faults must be a JSON object such as {"licence_412":"drop"}');
  }
  const patch: FaultPatch = {};
  for (const [key, value] of Object.entries(input)) {
    switch (key) {
      case 'licence_412':
        patch.licence_412 = value === null ? null : oneOf(key, value, LICENCE_MODES);
        break;
      case 'error_rate':
        patch.error_rate = finiteNumber(key, value, 0, 1);
        break;
      case 'latency_ms':
        patch.latency_ms = finiteNumber(key, value, 0, 600_000);
        break;
      case 'session_ttl_s':
        patch.session_ttl_s = value === null ? null : finiteNumber(key, value, 0);
        break;
      case 'export_mode':
        patch.export_mode = oneOf(key, value, EXPORT_MODES);
        break;
      case 'scan_outcome':
        patch.scan_outcome = oneOf(key, value, SCAN_OUTCOMES);
        break;
      case 'scan_seconds':
        patch.scan_seconds = finiteNumber(key, value, 0, 86_400);
        break;
      case 'download_mode':
        patch.download_mode = oneOf(key, value, DOWNLOAD_MODES);
        break;
      case 'server_loading':
        patch.server_loading = value === null ? null : finiteNumber(key, value, 0, 100);
        break;
      case 'running_status':
        if (value !== null && (typeof value !== 'string' || !/^[a-z]{1,32}$/.test(value))) {
          throw new FaultValidationError(`running_status must be a lower-case status word such as "publishing", or null; got ${JSON.stringify(value)}`);
        }
        patch.running_status = value;
        break;
      case 'session_refusal':
        patch.session_refusal = value === null ? null : oneOf(key, value, SESSION_REFUSALS);
        break;
      case 'drift':
        patch.drift = finiteNumber(key, value, 0, 1);
        break;
      case 'max_concurrent_scans':
        if (value !== null && (typeof value !== 'number' || !Number.isInteger(value) || value < 1)) {
          throw new FaultValidationError(`max_concurrent_scans must be an integer >= 1, or null for no limit; got ${JSON.stringify(value)}`);
        }
        patch.max_concurrent_scans = value;
        break;
      default:
        throw new FaultValidationError(`unknown fault key '${key}'; known keys: ${FAULT_KEYS.join(', ')}`);
    }
  }
  return patch;
}

export function applyFaultPatch(current: Faults, patch: FaultPatch): Faults {
  return { ...current, ...patch };
}
