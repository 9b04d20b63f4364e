import { AppError } from '@nessus-mcp/core/errors';
import { PRIVILEGE_ESCALATIONS, type ScanType, type SshCredentials } from './scanner.js';

/**
 * One `credentials.add.Host.SSH[]` entry of `POST /scans`. Field names follow the Nessus scan
 * editor (the same names pyTenable and Tenable's own credential helpers send): `auth_method`
 * is `password` or `public key`; `private_key` is the name returned by `POST /file/upload`, not
 * the key text; `elevate_privileges_with` is `Nothing` when no escalation is wanted.
 */
export interface NessusSshCredential {
  auth_method: 'password' | 'public key';
  username: string;
  password?: string;
  private_key?: string;
  private_key_passphrase?: string;
  port?: number;
  elevate_privileges_with: 'Nothing' | (typeof PRIVILEGE_ESCALATIONS)[number];
  escalation_account?: string;
  escalation_password?: string;
}

export interface NessusCredentialsPayload {
  add: { Host: { SSH: NessusSshCredential[] } };
}

/** Checks what a scan type needs; returns the credentials to send, or null for `untrusted`. */
export function validateScanCredentials(scanType: ScanType, credentials: SshCredentials | undefined): SshCredentials | null {
  if (scanType === 'untrusted') return null;
  if (!credentials) {
    throw new AppError('invalid_argument', `a ${scanType} scan needs SSH credentials (username and password or private key)`);
  }
  if (!credentials.username.trim()) throw new AppError('invalid_argument', 'ssh_username must not be empty');
  const hasPassword = credentials.password !== undefined && credentials.password !== '';
  const hasKey = credentials.privateKey !== undefined && credentials.privateKey !== '';
  if (hasPassword === hasKey) {
    throw new AppError('invalid_argument', 'give exactly one of ssh_password and ssh_private_key');
  }
  if (credentials.port !== undefined && !(Number.isInteger(credentials.port) && credentials.port >= 1 && credentials.port <= 65535)) {
    throw new AppError('invalid_argument', `ssh_port must be an integer between 1 and 65535, got ${String(credentials.port)}`);
  }
  if (scanType === 'privileged') {
    const method = credentials.elevatePrivilegesWith;
    if (method === undefined || !PRIVILEGE_ESCALATIONS.includes(method)) {
      throw new AppError('invalid_argument', `a privileged scan needs elevate_privileges_with, one of ${PRIVILEGE_ESCALATIONS.join(', ')}`);
    }
  }
  return credentials;
}

/**
 * Maps validated credentials to the Nessus entry. `uploadedKeyName` is the `fileuploaded` name of
 * the private key, required for key authentication. A `trusted` scan never escalates, whatever
 * the caller passed: escalation is what makes a scan `privileged`.
 */
export function toNessusSshCredential(
  scanType: Exclude<ScanType, 'untrusted'>,
  credentials: SshCredentials,
  uploadedKeyName?: string,
): NessusSshCredential {
  const entry: NessusSshCredential =
    credentials.privateKey !== undefined && credentials.privateKey !== ''
      ? {
          auth_method: 'public key',
          username: credentials.username,
          private_key: requireKeyName(uploadedKeyName),
          ...(credentials.privateKeyPassphrase ? { private_key_passphrase: credentials.privateKeyPassphrase } : {}),
          elevate_privileges_with: 'Nothing',
        }
      : { auth_method: 'password', username: credentials.username, password: credentials.password ?? '', elevate_privileges_with: 'Nothing' };
  if (credentials.port !== undefined) entry.port = credentials.port;
  if (scanType === 'privileged' && credentials.elevatePrivilegesWith) {
    entry.elevate_privileges_with = credentials.elevatePrivilegesWith;
    if (credentials.escalationAccount) entry.escalation_account = credentials.escalationAccount;
    if (credentials.escalationPassword) entry.escalation_password = credentials.escalationPassword;
  }
  return entry;
}

function requireKeyName(name: string | undefined): string {
  if (!name) throw new AppError('internal', 'the private key must be uploaded before the scan is created');
  return name;
}

export function credentialsPayload(entry: NessusSshCredential): NessusCredentialsPayload {
  return { add: { Host: { SSH: [entry] } } };
}

/** Every secret value in the credentials, for redaction from errors and logs. */
export function credentialSecrets(credentials: SshCredentials | undefined): string[] {
  if (!credentials) return [];
  return [credentials.password, credentials.privateKey, credentials.privateKeyPassphrase, credentials.escalationPassword].filter(
    (value): value is string => typeof value === 'string' && value.length > 0,
  );
}
