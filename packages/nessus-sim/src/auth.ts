import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface ApiCredentials {
  accessKey: string;
  secretKey: string;
  username: string;
  password: string;
}

export const DEFAULT_API_CREDENTIALS: Readonly<ApiCredentials> = Object.freeze({
  accessKey: 'sim-access-key',
  secretKey: 'sim-secret-key',
  username: 'admin',
  password: 'sim-admin-password',
});

// Error texts observed on real servers (docs/nessus-api.md §B.1).
export const INVALID_CREDENTIALS = 'Invalid Credentials';
export const LOGIN_REQUIRED = 'You need to log in to perform this request';

export type AuthResult = { ok: true; username: string; via: 'api_keys' | 'session' } | { ok: false; message: string };

interface Session {
  username: string;
  lastSeenMs: number;
}

export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads `accessKey=...; secretKey=...;` in every spelling clients use (B.1): `; ` or `;`
 * separators, with or without the trailing `;`, key names in any case.
 */
export function parseApiKeysHeader(value: string): { accessKey?: string; secretKey?: string } {
  const parsed: { accessKey?: string; secretKey?: string } = {};
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const val = part.slice(eq + 1).trim();
    if (key === 'accesskey') parsed.accessKey = val;
    else if (key === 'secretkey') parsed.secretKey = val;
  }
  return parsed;
}

export function parseCookieToken(value: string): string | undefined {
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq >= 0 && part.slice(0, eq).trim().toLowerCase() === 'token') return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Sessions from `POST /session`, expiring after `ttlSeconds()` without use. */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly clock: () => number,
    private readonly ttlSeconds: () => number | null,
  ) {}

  create(username: string): string {
    // 48 hex characters, as real tokens are (nessrest#116).
    const token = randomBytes(24).toString('hex');
    this.sessions.set(token, { username, lastSeenMs: this.clock() });
    return token;
  }

  /** Returns the user and refreshes the idle timer, or undefined for unknown/expired tokens. */
  touch(token: string): string | undefined {
    const session = this.sessions.get(token);
    if (!session) return undefined;
    const ttl = this.ttlSeconds();
    const now = this.clock();
    if (ttl !== null && now - session.lastSeenMs > ttl * 1000) {
      this.sessions.delete(token);
      return undefined;
    }
    session.lastSeenMs = now;
    return session.username;
  }

  delete(token: string): void {
    this.sessions.delete(token);
  }

  clear(): void {
    this.sessions.clear();
  }
}

export function authenticate(headers: IncomingHttpHeaders, credentials: ApiCredentials, sessions: SessionStore): AuthResult {
  const apiKeys = headerValue(headers, 'x-apikeys');
  if (apiKeys !== undefined) {
    const { accessKey, secretKey } = parseApiKeysHeader(apiKeys);
    if (accessKey !== undefined && secretKey !== undefined && sameSecret(accessKey, credentials.accessKey) && sameSecret(secretKey, credentials.secretKey)) {
      return { ok: true, username: credentials.username, via: 'api_keys' };
    }
    return { ok: false, message: INVALID_CREDENTIALS };
  }
  const cookie = headerValue(headers, 'x-cookie');
  if (cookie !== undefined) {
    const token = parseCookieToken(cookie);
    const username = token === undefined ? undefined : sessions.touch(token);
    return username === undefined ? { ok: false, message: INVALID_CREDENTIALS } : { ok: true, username, via: 'session' };
  }
  return { ok: false, message: LOGIN_REQUIRED };
}

export function sessionTokenOf(headers: IncomingHttpHeaders): string | undefined {
  const cookie = headerValue(headers, 'x-cookie');
  return cookie === undefined ? undefined : parseCookieToken(cookie);
}
