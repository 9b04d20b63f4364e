import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GeneratedCertificate {
  certFile: string;
  keyFile: string;
  /** Removes the temporary directory holding both files. */
  dispose(): void;
}

/**
 * A throw-away self-signed certificate for localhost/127.0.0.1, like the one a fresh Nessus
 * install serves (B.0), made with the system `openssl` since Node cannot issue X.509 itself.
 * Clients can pass `certFile` as their CA file to test verification on.
 */
export function generateSelfSignedCertificate(host: string): GeneratedCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'nessus-sim-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const altNames = ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'];
  if (/^[\d.]+$/.test(host) && host !== '127.0.0.1' && host !== '0.0.0.0') altNames.push(`IP:${host}`);
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '30',
        '-subj',
        '/CN=localhost',
        '-addext',
        `subjectAltName=${altNames.join(',')}`,
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`--tls needs the openssl command to make a self-signed certificate: ${reason}`, { cause: error });
  }
  return { certFile, keyFile, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
