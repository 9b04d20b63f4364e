/**
 * `${VAR}` and `${VAR:-default}` substitution inside every string of a parsed YAML document.
 * Expansion runs on the parsed tree (not the raw text) so a missing variable can be reported
 * with the key path it was found at, and so a value can never inject YAML structure.
 */

export interface EnvIssue {
  path: string;
  message: string;
}

const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out || '(root)';
}

export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, issues: EnvIssue[], path: Array<string | number> = []): unknown {
  if (typeof value === 'string') {
    return value.replace(PATTERN, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      issues.push({
        path: formatPath(path),
        message: `environment variable ${name} is not set (write \${${name}:-default} to give a default)`,
      });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => expandEnv(item, env, issues, [...path, index]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, expandEnv(item, env, issues, [...path, key])]));
  }
  return value;
}
