import { AppError } from '@nessus-mcp/core/errors';
import { parseScanCredentials, type EscalationMethod, type ScanCredentials } from '@nessus-mcp/core/scan-credentials';
import type { ScanType } from './scanner.js';

/**
 * One `credentials.add.Host.SSH[]` entry of `POST /scans`. Field names follow the Nessus scan
 * editor (the same names pyTenable and Tenable's own credential helpers send): `auth_method`
 * is `password` or `public key`; `private_key` is the name returned by `POST /file/upload`, not
 * the key text; `elevate_privileges_with` is `Nothing` when no escalation is wanted; `su_user`
 * is the su login of `su+sudo`. There is no port here: Nessus has one SSH port per scan
 * (`settings.ssh_port`) and ignores a port inside an entry.
 */
export interface NessusSshCredential {
  auth_method: 'password' | 'public key';
  username: string;
  password?: string;
  private_key?: string;
  private_key_passphrase?: string;
  elevate_privileges_with: 'Nothing' | EscalationMethod;
  escalation_account?: string;
  escalation_password?: string;
  su_user?: string;
}

export interface NessusCredentialsPayload {
  add: { Host: { SSH: NessusSshCredential[] } };
}

/** What credentials add to the `POST /scans` body: the credential entry and the scan-wide settings. */
export interface NessusCredentialFragment {
  credentials: NessusCredentialsPayload;
  /** Merged into `settings`; Nessus reads the SSH port as a string. */
  settings: { ssh_port?: string };
}

/**
 * Checks what a scan type needs with core's credentials schema; returns the credentials to send,
 * or null for `untrusted`.
 */
export function validateScanCredentials(scanType: ScanType, credentials: ScanCredentials | undefined): ScanCredentials | null {
  if (scanType === 'untrusted') return null;
  return parseScanCredentials(scanType, credentials ?? {});
}

/**
 * Maps validated credentials to the `POST /scans` fragment. `uploadedKeyName` is the
 * `fileuploaded` name of the private key, required for key authentication. A `trusted` scan never
 * escalates, whatever the caller passed: escalation is what makes a scan `privileged`.
 */
export function nessusCredentialFragment(
  scanType: Exclude<ScanType, 'untrusted'>,
  credentials: ScanCredentials,
  uploadedKeyName?: string,
): NessusCredentialFragment {
  const entry: NessusSshCredential =
    credentials.ssh_private_key !== undefined
      ? {
          auth_method: 'public key',
          username: credentials.ssh_username,
          private_key: requireKeyName(uploadedKeyName),
          ...(credentials.ssh_private_key_passphrase !== undefined ? { private_key_passphrase: credentials.ssh_private_key_passphrase } : {}),
          elevate_privileges_with: 'Nothing',
        }
      : { auth_method: 'password', username: credentials.ssh_username, password: credentials.ssh_password ?? '', elevate_privileges_with: 'Nothing' };
  if (scanType === 'privileged' && credentials.elevate_privileges_with) {
    entry.elevate_privileges_with = credentials.elevate_privileges_with;
    if (credentials.escalation_account !== undefined) entry.escalation_account = credentials.escalation_account;
    if (credentials.escalation_password !== undefined) entry.escalation_password = credentials.escalation_password;
    if (credentials.su_login !== undefined) entry.su_user = credentials.su_login;
  }
  return {
    credentials: { add: { Host: { SSH: [entry] } } },
    settings: credentials.ssh_port === undefined ? {} : { ssh_port: String(credentials.ssh_port) },
  };
}

function requireKeyName(name: string | undefined): string {
  if (!name) throw new AppError('internal', 'the private key must be uploaded before the scan is created');
  return name;
}
