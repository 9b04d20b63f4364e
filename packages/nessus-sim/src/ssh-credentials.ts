import { sameSecret } from './auth.js';

/** What the simulated targets accept over SSH, and the port their SSH server listens on. */
export interface ValidSshCredentials {
  username: string;
  password: string;
  port: number;
}

export const DEFAULT_VALID_SSH: Readonly<ValidSshCredentials> = Object.freeze({
  username: 'scan',
  password: 'scan-password',
  port: 22,
});

/** Nessus' default when a scan's settings carry no `ssh_port`. */
const DEFAULT_SSH_PORT = '22';

/**
 * Outcome of the SSH credentials a scan was created with. Only this verdict is kept: the
 * simulator never stores, logs or echoes the secrets themselves.
 */
export type CredentialVerdict = 'none' | 'valid' | 'invalid';

export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

// Values of the Nessus SSH credential form's "Elevate privileges with" list.
const ESCALATIONS = new Set(['Nothing', 'sudo', 'su', 'su+sudo', 'pbrun', 'dzdo', '.k5login', "Cisco 'enable'", "Checkpoint Gaia 'expert'"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(entry: Record<string, unknown>, key: string): string | undefined {
  const value = entry[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new CredentialsError(`credentials: SSH '${key}' must be a string`);
  return value;
}

function judgeSshEntry(entry: unknown, valid: ValidSshCredentials): boolean {
  if (!isRecord(entry)) throw new CredentialsError('credentials: each SSH credential must be an object');
  const method = optionalString(entry, 'auth_method') ?? 'password';
  const username = optionalString(entry, 'username');
  if (!username) throw new CredentialsError('credentials: SSH credential needs a username');
  const escalation = optionalString(entry, 'elevate_privileges_with');
  if (escalation !== undefined && !ESCALATIONS.has(escalation)) {
    throw new CredentialsError(`credentials: elevate_privileges_with '${escalation}' is not one of ${[...ESCALATIONS].join(', ')}`);
  }
  // Nessus ignores a port inside an entry (the port is the scan-wide settings.ssh_port), so does the simulator.
  // The su+sudo form's su login is required: without it su has no account to switch to and the login fails.
  const suLoginMissing = escalation === 'su+sudo' && !optionalString(entry, 'su_user');
  const userMatches = sameSecret(username, valid.username) && !suLoginMissing;
  if (method === 'password') {
    const password = optionalString(entry, 'password');
    if (password === undefined) throw new CredentialsError('credentials: SSH password authentication needs a password');
    return userMatches && sameSecret(password, valid.password);
  }
  if (method === 'public key') {
    // Real Nessus takes the name returned by POST /file/upload; any non-empty key is accepted.
    const key = optionalString(entry, 'private_key');
    if (!key) throw new CredentialsError("credentials: SSH 'public key' authentication needs a private_key");
    return userMatches;
  }
  throw new CredentialsError(`credentials: SSH auth_method '${method}' is not supported by the simulator (use 'password' or 'public key')`);
}

/**
 * The scan-wide SSH port of a `POST /scans` body's settings. Nessus sends and reads it as a
 * string; a number is refused here so a client that sends one is caught (what real Nessus does
 * with a number is not verified).
 */
function sshPortOf(settings: Record<string, unknown>): string {
  const port = settings['ssh_port'];
  if (port === undefined || port === null) return DEFAULT_SSH_PORT;
  if (typeof port !== 'string' || !/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new CredentialsError(`settings: ssh_port must be a port number as a string ("1"-"65535"), got ${JSON.stringify(port)}`);
  }
  return String(Number(port));
}

/**
 * Judges `credentials.add` of a `POST /scans` body (B.3.4), shaped
 * `{"add": {"Host": {"SSH": [{auth_method, username, password | private_key, ...}]}}}`, with the
 * scan's `settings.ssh_port`. Every SSH entry must be valid, and the port the one the targets
 * listen on, for the scan to count as credentialed.
 */
export function judgeScanCredentials(credentials: unknown, settings: Record<string, unknown>, valid: ValidSshCredentials): CredentialVerdict {
  const port = sshPortOf(settings);
  if (credentials === undefined || credentials === null) return 'none';
  if (!isRecord(credentials)) throw new CredentialsError('credentials must be an object');
  const add = credentials['add'];
  if (add === undefined || add === null) return 'none';
  if (!isRecord(add)) throw new CredentialsError('credentials.add must be an object');
  const host = add['Host'];
  const ssh = isRecord(host) ? host['SSH'] : undefined;
  if (ssh === undefined || ssh === null) return 'none';
  const entries = Array.isArray(ssh) ? ssh : [ssh];
  if (entries.length === 0) return 'none';
  const verdicts = entries.map((entry) => judgeSshEntry(entry, valid));
  return verdicts.every(Boolean) && port === String(valid.port) ? 'valid' : 'invalid';
}
