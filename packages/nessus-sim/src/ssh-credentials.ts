import { sameSecret } from './auth.js';

/** What the simulated targets accept over SSH. */
export interface ValidSshCredentials {
  username: string;
  password: string;
}

export const DEFAULT_VALID_SSH: Readonly<ValidSshCredentials> = Object.freeze({
  username: 'scan',
  password: 'scan-password',
});

/**
 * Outcome of the SSH credentials a scan was created with. Only this verdict is kept: the
 * simulator never stores, logs or echoes the secrets themselves.
 */
export type CredentialVerdict = 'none' | 'valid' | 'invalid';

export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

// Values of the Nessus SSH credential form's "Elevate privileges with" list.
const ESCALATIONS = new Set([
  'Nothing',
  'sudo',
  'su',
  'su+sudo',
  'pbrun',
  'dzdo',
  '.k5login',
  "Cisco 'enable'",
  "Checkpoint Gaia 'expert'",
]);

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
    throw new CredentialsError(
      `credentials: elevate_privileges_with '${escalation}' is not one of ${[...ESCALATIONS].join(', ')}`,
    );
  }
  const port = entry['port'];
  if (port !== undefined && port !== null && !/^\d{1,5}$/.test(String(port))) {
    throw new CredentialsError('credentials: SSH port must be a number');
  }
  const userMatches = sameSecret(username, valid.username);
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
  throw new CredentialsError(
    `credentials: SSH auth_method '${method}' is not supported by the simulator (use 'password' or 'public key')`,
  );
}

/**
 * Judges `credentials.add` of a `POST /scans` body (B.3.4), shaped
 * `{"add": {"Host": {"SSH": [{auth_method, username, password | private_key, ...}]}}}`.
 * Every SSH entry must be valid for the scan to count as credentialed.
 */
export function judgeScanCredentials(credentials: unknown, valid: ValidSshCredentials): CredentialVerdict {
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
  return verdicts.every(Boolean) ? 'valid' : 'invalid';
}
