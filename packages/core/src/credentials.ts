import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from './errors.js';

/**
 * Scan credentials at rest (job data in Redis, Bull Board, the failed set) are only ever this
 * envelope. AES-256-GCM with a random 96-bit IV; the task id is bound as additional data so a
 * blob copied onto another task does not decrypt.
 */
export interface EncryptedSecret {
  v: 1;
  alg: 'A256GCM';
  iv: string;
  tag: string;
  ct: string;
}

export function encryptSecret(key: Buffer, plaintext: unknown, associatedData: string): EncryptedSecret {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ct = Buffer.concat([cipher.update(JSON.stringify(plaintext), 'utf8'), cipher.final()]);
  return { v: 1, alg: 'A256GCM', iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') };
}

export function decryptSecret<T>(key: Buffer, envelope: EncryptedSecret, associatedData: string): T {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
    const text = Buffer.concat([decipher.update(Buffer.from(envelope.ct, 'base64')), decipher.final()]).toString('utf8');
    return JSON.parse(text) as T;
  } catch (error) {
    // Deliberately vague: the usual cause is a changed CREDENTIALS_KEY, and details could help an attacker.
    throw new AppError('invalid_argument', 'stored scan credentials cannot be decrypted (was CREDENTIALS_KEY changed since the task was submitted?)', {
      cause: error,
    });
  }
}

export function isEncryptedSecret(value: unknown): value is EncryptedSecret {
  return !!value && typeof value === 'object' && (value as { alg?: unknown }).alg === 'A256GCM' && typeof (value as { ct?: unknown }).ct === 'string';
}
