import { z } from 'zod';
import { decryptSecret, encryptSecret, type EncryptedSecret } from './credentials.js';
import { AppError } from './errors.js';
import type { ScanType } from './tasks.js';
import { zodIssuesToError } from './zod-issues.js';

/**
 * Scan credentials, declared once: the tools' parameters, the clear text sealed into job data and
 * what the scanner package turns into a Nessus credential entry are all `ScanCredentials`, checked
 * by `scanCredentialsSchema` with its cross-field rules.
 */

/**
 * The escalation methods offered, a subset of the Nessus SSH form's "Elevate privileges with"
 * list (which also has `.k5login`, Cisco `enable` and Checkpoint `expert`, not for Unix hosts).
 */
export const ESCALATION_METHODS = ['sudo', 'su', 'su+sudo', 'pbrun', 'dzdo'] as const;
export type EscalationMethod = (typeof ESCALATION_METHODS)[number];

const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** The SSH login fields of `run_trusted_scan` and `run_privileged_scan`. */
export const sshLoginShape = {
  ssh_username: z.string().trim().min(1, 'must not be empty').max(256).describe('SSH user the scanner logs in as on every target.'),
  ssh_password: z
    .string()
    .min(1)
    .max(1024)
    .optional()
    .describe('SSH password. Give exactly one of ssh_password and ssh_private_key. Stored encrypted; never returned.'),
  ssh_private_key: z
    .string()
    .min(1)
    .max(32_768)
    .regex(PEM_PRIVATE_KEY, 'is not a PEM private key (expected a -----BEGIN ... PRIVATE KEY----- block)')
    .optional()
    .describe('PEM private key text. Give exactly one of ssh_password and ssh_private_key.'),
  ssh_private_key_passphrase: z.string().min(1).max(1024).optional().describe('Passphrase of ssh_private_key, when it has one.'),
  ssh_port: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .optional()
    .describe('SSH port of the targets (default 22). Nessus applies one SSH port to the whole scan, so every target must listen on it.'),
};

/** The escalation fields of `run_privileged_scan`. */
export const escalationShape = {
  elevate_privileges_with: z.enum(ESCALATION_METHODS).describe('How the SSH user becomes root on the targets.'),
  escalation_account: z.string().min(1).max(256).optional().describe('Account to escalate to (default root); for su+sudo, the account sudo runs as.'),
  escalation_password: z
    .string()
    .min(1)
    .max(1024)
    .optional()
    .describe('Escalation password: required for su and su+sudo; omit for passwordless sudo, pbrun or dzdo.'),
  su_login: z.string().min(1).max(256).optional().describe('For su+sudo only, and required there: the account su switches to before it runs sudo.'),
};

/** The fields the cross-field rules read. */
interface RuleFields {
  ssh_password?: string | undefined;
  ssh_private_key?: string | undefined;
  ssh_private_key_passphrase?: string | undefined;
  elevate_privileges_with?: EscalationMethod | undefined;
  escalation_password?: string | undefined;
  su_login?: string | undefined;
}

function checkCredentialRules(value: RuleFields, ctx: z.RefinementCtx<RuleFields>): void {
  const hasPassword = value.ssh_password !== undefined;
  const hasKey = value.ssh_private_key !== undefined;
  if (hasPassword === hasKey) {
    ctx.addIssue({
      code: 'custom',
      path: [hasPassword ? 'ssh_private_key' : 'ssh_password'],
      message: hasPassword
        ? 'give exactly one of ssh_password and ssh_private_key, not both: drop the one the targets do not accept'
        : 'give exactly one of ssh_password and ssh_private_key: the scanner needs one of them to log in',
    });
  }
  if (value.ssh_private_key_passphrase !== undefined && !hasKey) {
    ctx.addIssue({ code: 'custom', path: ['ssh_private_key_passphrase'], message: 'only applies with ssh_private_key: drop it or send the key it unlocks' });
  }
  const method = value.elevate_privileges_with;
  if ((method === 'su' || method === 'su+sudo') && value.escalation_password === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['escalation_password'],
      message: `is required with ${method}: su asks for the password of the account it switches to`,
    });
  }
  if (method === 'su+sudo' && value.su_login === undefined) {
    ctx.addIssue({ code: 'custom', path: ['su_login'], message: 'is required with su+sudo: give the account su switches to before it runs sudo' });
  }
  if (value.su_login !== undefined && method !== 'su+sudo') {
    ctx.addIssue({ code: 'custom', path: ['su_login'], message: "only applies with elevate_privileges_with 'su+sudo': drop it or switch the method" });
  }
}

/** Credentials of a trusted scan: an SSH login, nothing to escalate. */
const trustedCredentialsSchema = z.strictObject(sshLoginShape).superRefine(checkCredentialRules);
/** Credentials of a privileged scan: an SSH login and how it becomes root. */
const privilegedCredentialsSchema = z.strictObject({ ...sshLoginShape, ...escalationShape }).superRefine(checkCredentialRules);

/** Any scan's credentials; the escalation fields are there only for a privileged scan. */
export const scanCredentialsSchema = z
  .strictObject({ ...sshLoginShape, ...escalationShape, elevate_privileges_with: escalationShape.elevate_privileges_with.optional() })
  .superRefine(checkCredentialRules);
export type ScanCredentials = z.output<typeof scanCredentialsSchema>;

const CREDENTIAL_FIELDS: readonly string[] = [...Object.keys(sshLoginShape), ...Object.keys(escalationShape)];

/**
 * The credentials a scan of this type runs with, picked from the caller's fields and checked:
 * null for `untrusted`, an `invalid_argument` naming each wrong field otherwise.
 */
export function parseScanCredentials(scanType: ScanType, fields: Record<string, unknown>): ScanCredentials | null {
  if (scanType === 'untrusted') return null;
  const picked = Object.fromEntries(Object.entries(fields).filter(([name, value]) => CREDENTIAL_FIELDS.includes(name) && value !== undefined));
  if (Object.keys(picked).length === 0) {
    throw new AppError('invalid_argument', `ssh_username: a ${scanType} scan needs SSH credentials (ssh_username and ssh_password or ssh_private_key)`, {
      details: { problems: [{ field: 'ssh_username', message: 'is required' }] },
    });
  }
  const schema = scanType === 'privileged' ? privilegedCredentialsSchema : trustedCredentialsSchema;
  const result = schema.safeParse(picked);
  if (!result.success) throw zodIssuesToError(result.error.issues);
  return result.data;
}

/** The credential fields holding secrets: hashed under a key, redacted, never shown. */
export const SECRET_CREDENTIAL_FIELDS = ['ssh_password', 'ssh_private_key', 'ssh_private_key_passphrase', 'escalation_password'] as const;

/** Every secret value in the credentials, for redaction from errors and logs. */
export function credentialSecrets(credentials: ScanCredentials | null | undefined): string[] {
  if (!credentials) return [];
  return SECRET_CREDENTIAL_FIELDS.map((field) => credentials[field]).filter((value): value is string => value !== undefined);
}

/** Encrypts scan credentials for job data; the task id is bound as additional data. */
export function sealScanCredentials(key: Buffer, credentials: ScanCredentials, taskId: string): EncryptedSecret {
  return encryptSecret(key, credentials, taskId);
}

/** Decrypts and checks sealed credentials against the same schema; errors never echo the decrypted content. */
export function openScanCredentials(key: Buffer, envelope: EncryptedSecret, taskId: string): ScanCredentials {
  const result = scanCredentialsSchema.safeParse(decryptSecret<unknown>(key, envelope, taskId));
  if (!result.success) {
    const fields = [...new Set(result.error.issues.map((issue) => issue.path.map(String).join('.') || 'credentials'))];
    throw new AppError('invalid_argument', `stored scan credentials do not match the credentials schema (${fields.join(', ')}); resubmit the scan`);
  }
  return result.data;
}
