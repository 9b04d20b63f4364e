import { decryptSecret, encryptSecret, type EncryptedSecret } from './credentials.js';
import { AppError } from './errors.js';

/**
 * The clear-text shape sealed into `ScanJobData.credentials`: the submit tools' own parameter
 * names, so the gateway encrypts exactly what it validated and the worker decrypts it only to
 * build the Nessus request. Shared here so producer and consumer cannot drift.
 */
export interface ScanCredentialsPlain {
  ssh_username: string;
  ssh_password?: string;
  ssh_private_key?: string;
  ssh_private_key_passphrase?: string;
  ssh_port?: number;
  elevate_privileges_with?: 'sudo' | 'su' | 'su+sudo' | 'pbrun' | 'dzdo';
  escalation_account?: string;
  escalation_password?: string;
}

/** Encrypts scan credentials for job data; the task id is bound as additional data. */
export function sealScanCredentials(key: Buffer, credentials: ScanCredentialsPlain, taskId: string): EncryptedSecret {
  return encryptSecret(key, credentials, taskId);
}

/** Decrypts and shape-checks sealed credentials; errors never echo the decrypted content. */
export function openScanCredentials(key: Buffer, envelope: EncryptedSecret, taskId: string): ScanCredentialsPlain {
  const value = decryptSecret<unknown>(key, envelope, taskId);
  if (!value || typeof value !== 'object' || typeof (value as { ssh_username?: unknown }).ssh_username !== 'string') {
    throw new AppError('invalid_argument', 'stored scan credentials are not in the expected format (ssh_username missing); resubmit the scan');
  }
  return value as ScanCredentialsPlain;
}
