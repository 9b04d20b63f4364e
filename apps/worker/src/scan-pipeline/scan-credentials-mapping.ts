import { openScanCredentials, type ScanJobData } from '@nessus-mcp/core';
import type { SshCredentials } from '@nessus-mcp/scanners';

/**
 * Decrypts the job's sealed credentials only to hand them to the scanner request being built;
 * the clear text is never stored, logged or returned.
 */
export function unsealCredentials(data: ScanJobData, key: Buffer): SshCredentials | undefined {
  if (!data.credentials) return undefined;
  const plain = openScanCredentials(key, data.credentials, data.task_id);
  return {
    username: plain.ssh_username,
    ...(plain.ssh_password !== undefined ? { password: plain.ssh_password } : {}),
    ...(plain.ssh_private_key !== undefined ? { privateKey: plain.ssh_private_key } : {}),
    ...(plain.ssh_private_key_passphrase !== undefined ? { privateKeyPassphrase: plain.ssh_private_key_passphrase } : {}),
    ...(plain.ssh_port !== undefined ? { port: plain.ssh_port } : {}),
    ...(plain.elevate_privileges_with !== undefined ? { elevatePrivilegesWith: plain.elevate_privileges_with } : {}),
    ...(plain.escalation_account !== undefined ? { escalationAccount: plain.escalation_account } : {}),
    ...(plain.escalation_password !== undefined ? { escalationPassword: plain.escalation_password } : {}),
  };
}
