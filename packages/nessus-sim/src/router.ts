import type { IncomingMessage, ServerResponse } from 'node:http';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Parsed JSON body, or undefined when the body was empty. */
  readonly body: unknown;
  readonly rawBody: Buffer;
  /** The authenticated user; undefined on routes without auth. */
  readonly username: string | undefined;
}

export interface Route {
  readonly method: Method;
  readonly path: string;
  /** Needs X-ApiKeys or a session (B.1). */
  readonly auth: boolean;
  /** Refused with 412 under the `licence_412` fault (B.2's list). */
  readonly licenceGated: boolean;
  /** The body is not JSON (multipart upload): hand it over raw, `body` stays undefined. */
  readonly multipart?: true;
  readonly handler: (ctx: RouteContext) => Promise<void> | void;
}

interface CompiledRoute extends Route {
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

export type RouteMatch = { kind: 'found'; route: Route; params: Record<string, string> } | { kind: 'wrong_method'; allowed: Method[] } | { kind: 'none' };

/** Path patterns such as `/scans/:id/export/:file/status`; `:id`-style segments match one segment. */
export class Router {
  private readonly routes: CompiledRoute[] = [];

  add(route: Route): void {
    const names: string[] = [];
    const source = route.path
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(segment.slice(1));
        return '([^/]+)';
      })
      .join('/');
    this.routes.push({ ...route, pattern: new RegExp(`^${source}/?$`), names });
  }

  match(method: string, path: string): RouteMatch {
    const allowed: Method[] = [];
    for (const route of this.routes) {
      const found = route.pattern.exec(path);
      if (!found) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.names.forEach((name, index) => {
        params[name] = decodeURIComponent(found[index + 1] ?? '');
      });
      return { kind: 'found', route, params };
    }
    return allowed.length > 0 ? { kind: 'wrong_method', allowed } : { kind: 'none' };
  }
}
