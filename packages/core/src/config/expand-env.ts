/**
 * `${VAR}` and `${VAR:-default}` substitution inside every string of a parsed YAML document.
 * Expansion runs on the parsed tree (not the raw text) so a missing variable can be reported
 * with the key path it was found at, and so a value can never inject YAML structure.
 */

import type { z } from 'zod';
import { AppError } from '../errors.js';

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

/** Throws `config_invalid` listing every problem of a configuration document, one line per key path. */
export function failConfig(source: string, problems: EnvIssue[]): never {
  const lines = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
  throw new AppError('config_invalid', `${source} is invalid:\n${lines}`, { details: { source, problems } });
}

/**
 * A parsed YAML document with `${VAR}` expanded, validated by `schema`: every missing variable or
 * schema problem is reported at once, by key path, as `config_invalid`.
 */
export function validateConfigDocument<T>(schema: z.ZodType<T>, document: unknown, source: string, env: NodeJS.ProcessEnv): T {
  const envIssues: EnvIssue[] = [];
  const expanded = expandEnv(document, env, envIssues);
  if (envIssues.length > 0) failConfig(source, envIssues);
  const result = schema.safeParse(expanded);
  if (!result.success) {
    failConfig(
      source,
      result.error.issues.map((issue) => ({
        path: formatPath(issue.path.filter((part): part is string | number => typeof part !== 'symbol')),
        message: issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}` : issue.message,
      })),
    );
  }
  return result.data;
}
