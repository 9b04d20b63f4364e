import { hash, timingSafeEqual } from 'node:crypto';
import { EMPTY_ACCESS_CONFIG, type AccessConfig } from '@nessus-mcp/core';
import { OAuthVerifier, type OAuthRejection } from './oauth-verifier.js';
import { operatorPrincipal, type Authenticated, type Principal } from './principal.js';

export type { Authenticated } from './principal.js';

interface KnownToken {
  digest: Buffer;
  principal: Principal;
  /** Rate-limit key: the client name, or a digest prefix for the (possibly several) operator tokens. */
  id: string;
}

// The one-shot hash: about half the cost of a Hash object for a token this short, and it runs per request.
const digest = (value: string): Buffer => hash('sha256', value, 'buffer');

/**
 * The bearer tokens this gateway accepts: AUTH_TOKEN (the operator, every scope) and the access
 * file's clients. Tokens are compared as SHA-256 digests with timingSafeEqual, against every known
 * token without early exit, so timing reveals neither a prefix nor which one matched. `replace`
 * swaps the access file's part on SIGHUP; the operator tokens stay.
 */
export class AccessControl {
  private known: KnownToken[] = [];
  private current: AccessConfig = EMPTY_ACCESS_CONFIG;
  private verifier: OAuthVerifier | null = null;

  constructor(
    private readonly operatorTokens: readonly string[],
    config: AccessConfig = EMPTY_ACCESS_CONFIG,
  ) {
    this.replace(config);
  }

  get config(): AccessConfig {
    return this.current;
  }

  replace(config: AccessConfig): void {
    const operators = this.operatorTokens.map((token): KnownToken => {
      const hash = digest(token);
      return { digest: hash, principal: operatorPrincipal(), id: `operator:${hash.toString('hex').slice(0, 12)}` };
    });
    const clients = config.tokens.map((token): KnownToken => ({
      digest: Buffer.from(token.sha256, 'hex'),
      principal: { name: token.name, scopes: new Set(token.scopes), allowList: token.allowList, via: 'token' },
      id: token.name,
    }));
    this.known = [...operators, ...clients];
    // A new verifier only when the OAuth settings changed: it holds the cached JWKS.
    if (JSON.stringify(config.oauth) !== JSON.stringify(this.current.oauth) || (config.oauth !== null && this.verifier === null)) {
      this.verifier = config.oauth === null ? null : new OAuthVerifier(config.oauth);
    }
    this.current = config;
  }

  get oauth(): OAuthVerifier | null {
    return this.verifier;
  }

  /**
   * A static token first (no network), then, when OAuth is configured and the token is shaped
   * like a JWT, the issuer's verdict. Null: not a token we know, without a reason to give.
   */
  async authenticate(token: string): Promise<Authenticated | OAuthRejection | null> {
    const known = this.identify(token);
    if (known !== null) return known;
    if (this.verifier !== null && OAuthVerifier.looksLikeJwt(token)) return this.verifier.verify(token);
    return null;
  }

  /** The principal a bearer token stands for, or null. */
  identify(token: string): Authenticated | null {
    const candidate = digest(token);
    let match: KnownToken | null = null;
    for (const known of this.known) {
      if (timingSafeEqual(candidate, known.digest) && match === null) match = known;
    }
    return match === null ? null : { principal: match.principal, id: match.id };
  }
}
