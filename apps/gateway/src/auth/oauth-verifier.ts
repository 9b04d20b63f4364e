import { SCOPES, type OAuthConfig, type Scope } from '@nessus-mcp/core';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Authenticated } from './principal.js';

/** A JWT has three base64url parts; anything else is not worth a JWKS round trip. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface OAuthRejection {
  /** Safe to show the caller: which check failed, never the token or its claims. */
  reason: string;
}

/**
 * OAuth 2.1 resource server: access tokens are JWTs signed by the issuer, verified against its
 * JWKS (fetched on first use, cached, refetched when an unknown `kid` appears, at most every 30 s)
 * for signature, `iss`, `aud`, `exp` and `nbf` with the configured clock skew. Scopes come from
 * the space-separated `scope` claim; unknown scopes are ignored rather than refused, since an
 * issuer serves many resources.
 */
export class OAuthVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(readonly config: OAuthConfig) {
    this.jwks = createRemoteJWKSet(new URL(config.jwks_url), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
  }

  static looksLikeJwt(token: string): boolean {
    return JWT_SHAPE.test(token);
  }

  async verify(token: string): Promise<Authenticated | OAuthRejection> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        clockTolerance: this.config.clock_skew_seconds,
        algorithms: this.config.algorithms,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      return { reason: rejectionReason(error) };
    }
    const subject =
      typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : typeof payload['client_id'] === 'string' ? payload['client_id'] : 'unknown';
    const claimed = typeof payload['scope'] === 'string' ? payload['scope'].split(' ') : [];
    const scopes = new Set(claimed.filter((scope): scope is Scope => (SCOPES as readonly string[]).includes(scope)));
    const name = `oauth:${subject.slice(0, 100)}`;
    return { principal: { name, scopes, allowList: null, via: 'oauth' }, id: name };
  }
}

function rejectionReason(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the access token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'the access token was issued for another audience (aud)';
    if (error.claim === 'iss') return 'the access token was issued by another issuer (iss)';
    if (error.claim === 'nbf') return 'the access token is not valid yet (nbf)';
    return `the access token's ${error.claim} claim is invalid`;
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "the access token signature does not verify against the issuer's keys";
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'the access token is signed with a key the issuer does not publish';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the access token uses a signature algorithm this server does not accept';
  if (error instanceof joseErrors.JWKSTimeout || (error instanceof Error && /fetch|ECONNREFUSED|network/i.test(error.message))) {
    return "the issuer's keys (JWKS) could not be fetched; try again later";
  }
  return 'the access token is not a valid JWT';
}
