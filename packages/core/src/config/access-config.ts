import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { compileAllowList, type AllowList } from '../targets.js';
import { failConfig, validateConfigDocument } from './expand-env.js';

/** What a caller may do: read tasks and results, submit and cancel scans, operate the queues. */
export const SCOPES = ['nessus:read', 'nessus:scan', 'nessus:admin'] as const;
export type Scope = (typeof SCOPES)[number];

const httpsOrLoopbackUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    // A JWKS fetched over plain HTTP could be swapped in transit; loopback is for tests and sidecars.
    return url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname));
  } catch {
    return false;
  }
}, 'must be an https:// URL (http:// only on loopback)');

const tokenSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, dots, dashes or underscores')
    .refine((name) => name !== 'operator' && !name.startsWith('oauth:'), "'operator' and 'oauth:*' are reserved"),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be the 64 hex digits of the token\'s SHA-256 (printf %s "$TOKEN" | sha256sum)')
    .transform((hex) => hex.toLowerCase()),
  scopes: z.array(z.enum(SCOPES)).min(1, `name at least one of ${SCOPES.join(', ')}`),
  /** Narrows the global allowed_targets for this client; it can never widen them. */
  allowed_targets: z.array(z.string().min(1)).min(1).optional(),
});

const oauthSchema = z.strictObject({
  issuer: z.string().url(),
  /** The `aud` every access token must carry: this server's MCP endpoint URL. */
  audience: z.string().min(1),
  jwks_url: httpsOrLoopbackUrl,
  /** Tolerance for `exp`/`nbf`/`iat` between the issuer's clock and ours. */
  clock_skew_seconds: z.preprocess((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v), z.number().int().min(0).max(600)).default(60),
  /** The resource named in the protected-resource metadata; defaults to `audience`. */
  resource: z.string().min(1).optional(),
  /** Signature algorithms accepted; `none` and HMAC are never accepted from a JWKS. */
  algorithms: z
    .array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']))
    .min(1)
    .default(['RS256', 'ES256', 'EdDSA']),
});

export const accessConfigSchema = z
  .strictObject({
    tokens: z.array(tokenSchema).default([]),
    oauth: oauthSchema.optional(),
  })
  .superRefine((config, ctx) => {
    const names = new Set<string>();
    const digests = new Set<string>();
    config.tokens.forEach((token, i) => {
      if (names.has(token.name)) ctx.addIssue({ code: 'custom', path: ['tokens', i, 'name'], message: `duplicate name '${token.name}'` });
      if (digests.has(token.sha256)) ctx.addIssue({ code: 'custom', path: ['tokens', i, 'sha256'], message: 'the same token is listed twice' });
      names.add(token.name);
      digests.add(token.sha256);
    });
  });

export type OAuthConfig = z.output<typeof oauthSchema>;

export interface AccessToken {
  name: string;
  /** Lower-case hex SHA-256 of the token. */
  sha256: string;
  scopes: readonly Scope[];
  /** The client's own narrowing of the global allow-list, compiled; null = the global list alone. */
  allowList: AllowList | null;
}

export interface AccessConfig {
  tokens: readonly AccessToken[];
  oauth: OAuthConfig | null;
  /** The file read, or '' when there is none (AUTH_TOKEN alone). */
  source: string;
}

export const EMPTY_ACCESS_CONFIG: AccessConfig = { tokens: [], oauth: null, source: '' };

export function parseAccessConfig(document: unknown, source: string, env: NodeJS.ProcessEnv = process.env): AccessConfig {
  const data = validateConfigDocument(accessConfigSchema, document ?? {}, source, env);
  const tokens = data.tokens.map((token, i): AccessToken => {
    let allowList: AllowList | null = null;
    if (token.allowed_targets) {
      try {
        allowList = compileAllowList(token.allowed_targets);
      } catch (error) {
        failConfig(source, [{ path: `tokens[${i}].allowed_targets`, message: (error as Error).message.replace(/^allowed_targets: /, '') }]);
      }
    }
    return { name: token.name, sha256: token.sha256, scopes: [...new Set(token.scopes)], allowList };
  });
  return { tokens, oauth: data.oauth ?? null, source };
}

/**
 * Reads the access file: `ACCESS_CONFIG` when set (then it must exist), else `config/access.yaml`
 * when present. Without one, only AUTH_TOKEN (the operator, every scope) is accepted.
 */
export function loadAccessConfig(path: string | null, explicit: boolean, env: NodeJS.ProcessEnv = process.env): AccessConfig {
  if (path === null || (!explicit && !existsSync(path))) return EMPTY_ACCESS_CONFIG;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AppError('config_invalid', `cannot read access config ${path} (ACCESS_CONFIG): ${code === 'ENOENT' ? 'file not found' : String(code)}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    const message = error instanceof YAMLParseError ? error.message.split('\n')[0] : String(error);
    throw new AppError('config_invalid', `${path} is not valid YAML: ${message}`);
  }
  return parseAccessConfig(document, path, env);
}
