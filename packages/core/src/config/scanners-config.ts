import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { validateConfigDocument } from './expand-env.js';

/** Numbers and booleans may come from `${VAR}` expansion as strings. */
const int = (min: number, max: number) =>
  z.preprocess((v) => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v), z.number().int().min(min).max(max));
const bool = () => z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());

const instanceId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be 1-32 lower-case letters, digits or dashes (it becomes part of task ids)');

const httpUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an http:// or https:// URL');

export const scannerInstanceSchema = z
  .strictObject({
    instance_id: instanceId,
    name: z.string().min(1).max(200),
    url: httpUrl,
    access_key: z.string().min(1).optional(),
    secret_key: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    max_concurrent_scans: int(1, 1000).default(2),
    enabled: bool().default(true),
    tls_verify: bool().default(true),
    ca_file: z.string().min(1).optional(),
    timeout_ms: int(1000, 600000).default(30000),
    /**
     * Retries of a call that is safe to repeat (status reads, export status and download, login)
     * after a 5xx or a dropped connection, each after `http_retry_backoff_ms` doubled per try
     * with jitter. Create and launch are never repeated this way: the worker checks state first.
     * Defaults (in the scanner package): 3 retries, 500 ms.
     */
    http_retries: int(0, 10).optional(),
    http_retry_backoff_ms: int(10, 60000).optional(),
  })
  .superRefine((instance, ctx) => {
    const keys = instance.access_key !== undefined || instance.secret_key !== undefined;
    const login = instance.username !== undefined || instance.password !== undefined;
    if (keys && (!instance.access_key || !instance.secret_key)) {
      ctx.addIssue({ code: 'custom', message: 'access_key and secret_key must be given together' });
    }
    if (login && (!instance.username || !instance.password)) {
      ctx.addIssue({ code: 'custom', message: 'username and password must be given together' });
    }
    if (!keys && !login) {
      ctx.addIssue({ code: 'custom', message: 'needs access_key/secret_key or username/password' });
    }
  });

export const scannerPoolSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be 1-32 lower-case letters, digits or dashes'),
  type: z.enum(['nessus', 'mock']).default('nessus'),
  /** Nessus folder holding the scans this system creates; housekeeping only touches scans in it. */
  folder: z.string().min(1).max(100).default('nessus-mcp'),
  instances: z.array(scannerInstanceSchema).min(1, 'a pool needs at least one instance'),
});

const DEFAULT_ALLOWED_TARGETS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '::1/128', 'fc00::/7', 'localhost'];

export const scannersConfigSchema = z
  .strictObject({
    default_pool: z.string().optional(),
    pools: z.array(scannerPoolSchema).min(1, 'at least one pool is required'),
    /** CIDRs, single addresses, host names or `*.suffix` patterns agents may scan. */
    allowed_targets: z.array(z.string().min(1)).min(1).default(DEFAULT_ALLOWED_TARGETS),
    limits: z
      .strictObject({
        max_addresses_per_scan: int(1, 16777216).default(65536),
        max_name_length: int(1, 1000).default(200),
        max_description_length: int(0, 10000).default(2000),
        /** Largest .nessus export the worker downloads (MB); a bigger one fails the task clearly. */
        max_export_mb: int(1, 1024 * 1024).default(20480),
      })
      .prefault({}),
    scans: z
      .strictObject({
        /** Wall clock from the scan's start; past it the Nessus scan is stopped and the task ends `timeout`. */
        timeout_minutes: int(1, 7 * 24 * 60).default(24 * 60),
        attempts: int(1, 50).default(5),
        backoff_ms: int(100, 3600000).default(5000),
        poll_min_ms: int(100, 600000).default(2000),
        poll_max_ms: int(100, 3600000).default(30000),
      })
      .prefault({}),
    retention: z
      .strictObject({
        completed_days: int(1, 3650).default(7),
        failed_days: int(1, 3650).default(30),
        dead_letter_days: int(1, 3650).default(30),
        idempotency_hours: int(1, 24 * 30).default(48),
        // Scan fingerprints (identity, severity, plugin name, CVEs) outlive the full results so
        // compare_scans and search_findings still reach scans whose stores expired.
        history_days: int(1, 3650).default(400),
        /** How long the audit trail (a Redis stream) keeps its records. */
        audit_days: int(1, 3650).default(90),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    const pools = new Set<string>();
    config.pools.forEach((pool, p) => {
      if (pools.has(pool.name)) ctx.addIssue({ code: 'custom', path: ['pools', p, 'name'], message: `duplicate pool name '${pool.name}'` });
      pools.add(pool.name);
      const ids = new Set<string>();
      pool.instances.forEach((instance, i) => {
        if (ids.has(instance.instance_id)) {
          ctx.addIssue({
            code: 'custom',
            path: ['pools', p, 'instances', i, 'instance_id'],
            message: `duplicate instance_id '${instance.instance_id}' in pool '${pool.name}'`,
          });
        }
        ids.add(instance.instance_id);
      });
    });
    if (config.default_pool !== undefined && !pools.has(config.default_pool)) {
      ctx.addIssue({ code: 'custom', path: ['default_pool'], message: `names no pool (pools: ${[...pools].join(', ')})` });
    }
    if (config.scans.poll_min_ms > config.scans.poll_max_ms) {
      ctx.addIssue({ code: 'custom', path: ['scans', 'poll_min_ms'], message: 'must not exceed poll_max_ms' });
    }
  });

export type ScannersConfigInput = z.input<typeof scannersConfigSchema>;
export type ScannersConfig = z.output<typeof scannersConfigSchema> & { default_pool: string; source: string };
export type ScannerPoolConfig = z.output<typeof scannerPoolSchema>;
export type ScannerInstanceConfig = z.output<typeof scannerInstanceSchema>;

/** Validates an already parsed document (expanding `${VAR}` first). */
export function parseScannersConfig(document: unknown, source: string, env: NodeJS.ProcessEnv = process.env): ScannersConfig {
  const data = validateConfigDocument(scannersConfigSchema, document, source, env);
  const config = data;
  return { ...config, default_pool: config.default_pool ?? config.pools[0]!.name, source };
}

/** Reads and validates `scanners.yaml`. A missing file is an error, never a silently written example. */
export function loadScannersConfig(path: string, env: NodeJS.ProcessEnv = process.env): ScannersConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AppError(
      'config_invalid',
      `cannot read scanner config ${path}: ${code === 'ENOENT' ? 'file not found (set SCANNERS_CONFIG or create it; see config/scanners.yaml in the repository)' : String(code)}`,
    );
  }
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    const message = error instanceof YAMLParseError ? error.message.split('\n')[0] : String(error);
    throw new AppError('config_invalid', `${path} is not valid YAML: ${message}`);
  }
  return parseScannersConfig(document, path, env);
}

export function findPool(config: ScannersConfig, name: string): ScannerPoolConfig | undefined {
  return config.pools.find((pool) => pool.name === name);
}
