import { AppError, SCOPES, type AllowList, type Scope } from '@nessus-mcp/core';

/** Who is calling: what the access file, AUTH_TOKEN or an OAuth access token says about them. */
export interface Principal {
  /** Non-secret name for logs and the audit trail: the access file's name, `operator`, or `oauth:<sub>`. */
  name: string;
  scopes: ReadonlySet<Scope>;
  /** This client's narrowing of the global allow-list (null = global list only). */
  allowList: AllowList | null;
  via: 'operator' | 'token' | 'oauth';
}

/** A recognised credential: who it stands for and the key its rate limit is counted under. */
export interface Authenticated {
  principal: Principal;
  id: string;
}

/**
 * A route's or tool's declared need: a scope, or `authenticated` for endpoints that only
 * authenticate and check scopes per call inside (POST /mcp dispatches to tools of every scope).
 * Where a new tool, resource or route declares it: docs/security.md, "Adding a tool, resource or route".
 */
export type RequiredScope = Scope | 'authenticated';

/** AUTH_TOKEN holders and the stdio server (whoever can start it already holds the keys). */
export function operatorPrincipal(): Principal {
  return { name: 'operator', scopes: new Set(SCOPES), allowList: null, via: 'operator' };
}

export function hasScope(principal: Principal, required: RequiredScope): boolean {
  return required === 'authenticated' || principal.scopes.has(required);
}

export function forbiddenError(principal: Principal, required: Scope, action: string): AppError {
  const held = [...principal.scopes].join(', ') || 'none';
  return new AppError('forbidden', `${action} needs the '${required}' scope; client '${principal.name}' has: ${held}`, {
    details: { required_scope: required, client: principal.name },
  });
}

/** Throws `forbidden` naming the missing scope. */
export function assertScope(principal: Principal, required: RequiredScope, action: string): void {
  if (!hasScope(principal, required)) throw forbiddenError(principal, required as Scope, action);
}
