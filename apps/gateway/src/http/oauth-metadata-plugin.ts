import { AppError, SCOPES } from '@nessus-mcp/core';
import type { FastifyPluginAsync } from 'fastify';
import type { AccessControl } from '../auth/access-control.js';

export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';

/**
 * The OAuth protected-resource metadata (RFC 9728), without auth: MCP clients read it after a 401
 * (its URL is in WWW-Authenticate) to learn which authorization server issues tokens for /mcp.
 * The `/mcp` suffixed path is the form RFC 9728 derives from the resource URL's path.
 */
export const oauthMetadataPlugin: FastifyPluginAsync<{ access: AccessControl }> = async (app, { access }) => {
  const handler = async () => {
    const oauth = access.config.oauth;
    if (oauth === null) throw new AppError('not_found', 'OAuth is not configured on this server (the access file has no oauth section); use a bearer token');
    return {
      resource: oauth.resource ?? oauth.audience,
      authorization_servers: [oauth.issuer],
      scopes_supported: [...SCOPES],
      bearer_methods_supported: ['header'],
      resource_name: 'nessus-mcp',
    };
  };
  app.get(PROTECTED_RESOURCE_PATH, { logLevel: 'warn' }, handler);
  app.get(`${PROTECTED_RESOURCE_PATH}/mcp`, { logLevel: 'warn' }, handler);
};
