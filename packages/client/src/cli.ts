#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { NessusMcpClient } from './client.js';
import { formatFinding, formatSummary } from './answers-view.js';
import {
  CANCEL_HELP,
  DIFF_HELP,
  FINDING_HELP,
  GENERAL_HELP,
  REPORT_HELP,
  RESULTS_HELP,
  SCAN_HELP,
  SEARCH_HELP,
  STATUS_HELP,
  SUMMARY_HELP,
  TASKS_HELP,
} from './cli-help.js';
import { CHANGE_CLASSES, type ChangeClass } from './cross-scan.js';
import { NessusMcpError } from './errors.js';
import { PromptCancelled, promptHidden } from './password-prompt.js';
import { ProgressBar } from './progress-bar.js';
import { formatResults, formatStatus, formatSubmission, tasksTable } from './results-view.js';
import { GROUP_BY_KEYS, PRIVILEGE_ESCALATIONS, SCAN_TYPES, SCHEMA_PROFILES, SORT_KEYS, TASK_STATUSES } from './types.js';
import type {
  FilterTerm,
  GroupBy,
  PrivilegeEscalation,
  ResultFilters,
  ResultsPage,
  ScanRequest,
  ScanStatus,
  ScanType,
  SchemaProfile,
  SortKey,
  TaskStatus,
  WaitOptions,
} from './types.js';

const EXIT_OK = 0;
const EXIT_ERROR = 1;
const EXIT_USAGE = 2;
/** The shell's convention for a process ended by SIGINT. */
const EXIT_INTERRUPTED = 130;
const VERSION = '0.1.0';

class UsageError extends Error {
  readonly help: string | null;
  constructor(message: string, help: string | null) {
    super(message);
    this.help = help;
  }
}

/** State the error handler needs from the command that failed. */
interface Run {
  json: boolean;
  help: string | null;
}

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

const connection = {
  url: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const waiting = {
  wait: { type: 'boolean', default: false },
  interval: { type: 'string' },
  timeout: { type: 'string' },
} as const;

/** `parseArgs` with its TypeErrors (unknown option, missing value) turned into usage errors. */
function parse<T>(help: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) throw new UsageError(error.message, help);
    throw error;
  }
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], help: string): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${name} must be one of ${allowed.join(', ')}; got '${value}'`, help);
}

function integer(name: string, value: string | undefined, help: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min) throw new UsageError(`--${name} must be a whole number of at least ${min}; got '${value}'`, help);
  return number;
}

function seconds(name: string, value: string | undefined, help: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new UsageError(`--${name} must be a positive number of seconds; got '${value}'`, help);
  return Math.round(number * 1000);
}

function secretFromEnv(option: string, variable: string, help: string): string {
  const value = process.env[variable];
  if (value === undefined || value === '') throw new UsageError(`--${option} ${variable}: the environment variable ${variable} is not set or empty`, help);
  return value;
}

function singleTaskId(positionals: readonly string[], help: string): string {
  if (positionals.length !== 1 || !positionals[0]) throw new UsageError(positionals.length === 0 ? 'missing <task_id>' : 'give exactly one <task_id>', help);
  return positionals[0];
}

/** `key=value`: numbers and booleans typed, comparisons (`>=3`) kept as text; a repeated key becomes a list. */
function parseFilters(entries: readonly string[], help: string): ResultFilters | undefined {
  if (entries.length === 0) return undefined;
  const filters: Record<string, FilterTerm | FilterTerm[]> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0 || eq === entry.length - 1) throw new UsageError(`--filter expects KEY=VALUE; got '${entry}'`, help);
    const key = entry.slice(0, eq).trim();
    const raw = entry.slice(eq + 1).trim();
    const value: FilterTerm = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw === 'true' ? true : raw === 'false' ? false : raw;
    const existing = filters[key];
    filters[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return filters;
}

async function connect(url: string | undefined): Promise<NessusMcpClient> {
  // Loaded on first use: the MCP SDK and zod take most of the start-up time, which --help and
  // usage errors do not need.
  const { NessusMcpClient } = await import('./client.js');
  return NessusMcpClient.connect({ ...(url ? { url } : {}), clientName: 'nessus-mcp-cli' });
}

async function withClient<T>(url: string | undefined, use: (client: NessusMcpClient) => Promise<T>): Promise<T> {
  const client = await connect(url);
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** Waits with a progress display on stderr; Ctrl-C stops the waiting, not the scan. */
async function waitWithProgress(client: NessusMcpClient, taskId: string, options: Pick<WaitOptions, 'pollIntervalMs' | 'timeoutMs'>): Promise<ScanStatus> {
  const bar = new ProgressBar(process.stderr, taskId);
  const controller = new AbortController();
  const interrupt = (): void => controller.abort();
  process.once('SIGINT', interrupt);
  try {
    return await client.waitForCompletion(taskId, { ...options, signal: controller.signal, onProgress: (status) => bar.update(status) });
  } catch (error) {
    if (error instanceof NessusMcpError && error.code === 'aborted') {
      throw new NessusMcpError('aborted', 'stopped waiting', {
        cause: error,
        details: { task_id: taskId, hint: `the scan goes on; follow it with: nessus-mcp status ${taskId} --wait` },
      });
    }
    throw error;
  } finally {
    bar.finish();
    process.removeListener('SIGINT', interrupt);
  }
}

function waitOptions(values: { interval?: string | undefined; timeout?: string | undefined }, help: string): Pick<WaitOptions, 'pollIntervalMs' | 'timeoutMs'> {
  const pollIntervalMs = seconds('interval', values.interval, help);
  const timeoutMs = seconds('timeout', values.timeout, help);
  return { ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }), ...(timeoutMs === undefined ? {} : { timeoutMs }) };
}

/** A scan that waited and did not complete is a failure for scripts (`&&` chains, CI). */
function finalStatusExit(status: ScanStatus, json: boolean): number {
  if (status.status === 'completed') return EXIT_OK;
  if (!json) process.stderr.write(`nessus-mcp: scan ${status.task_id} ended ${status.status}${status.error ? `: ${status.error.message}` : ''}\n`);
  return EXIT_ERROR;
}

// ---------------------------------------------------------------------------------------------
// Commands

async function scanCommand(args: string[], run: Run): Promise<number> {
  const help = SCAN_HELP;
  run.help = help;
  const { values, positionals } = parse(help, () =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        ...connection,
        ...waiting,
        name: { type: 'string' },
        type: { type: 'string' },
        description: { type: 'string' },
        profile: { type: 'string' },
        pool: { type: 'string' },
        instance: { type: 'string' },
        'idempotency-key': { type: 'string' },
        'ssh-user': { type: 'string' },
        'ssh-password-env': { type: 'string' },
        // Declared only to refuse it with an explanation instead of "unknown option".
        'ssh-password': { type: 'string' },
        'ssh-key-file': { type: 'string' },
        'ssh-key-passphrase-env': { type: 'string' },
        'ssh-port': { type: 'string' },
        elevate: { type: 'string' },
        'escalation-account': { type: 'string' },
        'escalation-password-env': { type: 'string' },
        'su-login': { type: 'string' },
      },
    }),
  );
  run.json = values.json;
  if (values.help) {
    out(help);
    return EXIT_OK;
  }
  if (values['ssh-password'] !== undefined) {
    throw new UsageError(
      '--ssh-password is not accepted: a password on the command line is kept in shell history and visible in `ps`. Use --ssh-password-env VAR, or omit it to be prompted',
      help,
    );
  }
  const targets = positionals
    .flatMap((p) => p.split(','))
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (targets.length === 0) throw new UsageError('missing <targets>', help);
  if (!values.name) throw new UsageError('missing --name', help);
  const elevate = oneOf<PrivilegeEscalation>('elevate', values.elevate, PRIVILEGE_ESCALATIONS, help);
  const type: ScanType = oneOf('type', values.type, SCAN_TYPES, help) ?? (elevate ? 'privileged' : values['ssh-user'] ? 'trusted' : 'untrusted');
  const wait = waitOptions(values, help);
  const common = {
    targets,
    name: values.name,
    ...(values.description ? { description: values.description } : {}),
    ...(values.profile ? { schemaProfile: oneOf<SchemaProfile>('profile', values.profile, SCHEMA_PROFILES, help) } : {}),
    ...(values.pool ? { scannerPool: values.pool } : {}),
    ...(values.instance ? { scannerInstance: values.instance } : {}),
    ...(values['idempotency-key'] ? { idempotencyKey: values['idempotency-key'] } : {}),
  };

  let request: ScanRequest;
  if (type === 'untrusted') {
    const stray = ['ssh-user', 'ssh-password-env', 'ssh-key-file', 'elevate', 'su-login'].find((o) => values[o as keyof typeof values] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --type trusted or privileged`, help);
    request = { type, ...common };
  } else {
    const sshUsername = values['ssh-user'];
    if (!sshUsername) throw new UsageError(`a ${type} scan needs --ssh-user`, help);
    if (values['ssh-password-env'] && values['ssh-key-file']) throw new UsageError('give either --ssh-password-env or --ssh-key-file, not both', help);
    const sshPort = integer('ssh-port', values['ssh-port'], help, 1);
    let auth: { sshPassword: string } | { sshPrivateKey: string; sshPrivateKeyPassphrase?: string };
    if (values['ssh-key-file']) {
      let key: string;
      try {
        key = await readFile(values['ssh-key-file'], 'utf8');
      } catch (error) {
        throw new UsageError(`--ssh-key-file: cannot read ${values['ssh-key-file']}: ${(error as Error).message}`, help);
      }
      const passphraseVar = values['ssh-key-passphrase-env'];
      auth = { sshPrivateKey: key, ...(passphraseVar ? { sshPrivateKeyPassphrase: secretFromEnv('ssh-key-passphrase-env', passphraseVar, help) } : {}) };
    } else if (values['ssh-password-env']) {
      auth = { sshPassword: secretFromEnv('ssh-password-env', values['ssh-password-env'], help) };
    } else if (process.stdin.isTTY) {
      auth = { sshPassword: await promptHidden(`SSH password for ${sshUsername}: `) };
    } else {
      throw new UsageError('a password is needed: use --ssh-password-env VAR or --ssh-key-file FILE (stdin is not a terminal, so it cannot be prompted)', help);
    }
    const trusted = { ...common, sshUsername, ...(sshPort === undefined ? {} : { sshPort }), ...auth };
    if (type === 'trusted') {
      request = { type, ...trusted };
    } else {
      if (!elevate) throw new UsageError('a privileged scan needs --elevate (sudo, su, su+sudo, pbrun or dzdo)', help);
      const escalationVar = values['escalation-password-env'];
      request = {
        type,
        ...trusted,
        elevatePrivilegesWith: elevate,
        ...(values['escalation-account'] ? { escalationAccount: values['escalation-account'] } : {}),
        ...(escalationVar ? { escalationPassword: secretFromEnv('escalation-password-env', escalationVar, help) } : {}),
        ...(values['su-login'] ? { suLogin: values['su-login'] } : {}),
      };
    }
  }

  return withClient(values.url, async (client) => {
    const submission = await client.submitScan(request);
    if (!values.wait) {
      if (values.json) printJson(submission);
      else out(`${formatSubmission(submission)}\nFollow it with: nessus-mcp status ${submission.task_id} --wait`);
      return EXIT_OK;
    }
    if (!values.json) process.stderr.write(`${formatSubmission(submission)}\n`);
    const status = await waitWithProgress(client, submission.task_id, wait);
    if (values.json) printJson({ submission, status });
    else out(formatStatus(status));
    return finalStatusExit(status, values.json);
  });
}

async function statusCommand(args: string[], run: Run): Promise<number> {
  const help = STATUS_HELP;
  run.help = help;
  const { values, positionals } = parse(help, () => parseArgs({ args, allowPositionals: true, strict: true, options: { ...connection, ...waiting } }));
  run.json = values.json;
  if (values.help) {
    out(help);
    return EXIT_OK;
  }
  const taskId = singleTaskId(positionals, help);
  const wait = waitOptions(values, help);
  return withClient(values.url, async (client) => {
    const status = values.wait ? await waitWithProgress(client, taskId, wait) : await client.getStatus(taskId);
    if (values.json) printJson(status);
    else out(formatStatus(status));
    return values.wait ? finalStatusExit(status, values.json) : EXIT_OK;
  });
}

async function resultsCommand(args: string[], run: Run): Promise<number> {
  const help = RESULTS_HELP;
  run.help = help;
  const { values, positionals } = parse(help, () =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        ...connection,
        page: { type: 'string' },
        all: { type: 'boolean', default: false },
        'page-size': { type: 'string' },
        profile: { type: 'string' },
        fields: { type: 'string' },
        filter: { type: 'string', multiple: true, default: [] },
        sort: { type: 'string' },
        cursor: { type: 'string' },
        csv: { type: 'boolean', default: false },
      },
    }),
  );
  run.json = values.json;
  if (values.help) {
    out(help);
    return EXIT_OK;
  }
  const taskId = singleTaskId(positionals, help);
  if (values.all && values.page !== undefined) throw new UsageError('give either --page or --all', help);
  if (values.cursor !== undefined && (values.page !== undefined || values.all)) throw new UsageError('give either --cursor or --page/--all', help);
  if (values.csv && values.json) throw new UsageError('give either --csv or --json', help);
  const profile = oneOf<SchemaProfile>('profile', values.profile, SCHEMA_PROFILES, help);
  const sort = oneOf<SortKey>('sort', values.sort, SORT_KEYS, help);
  const pageSize = integer('page-size', values['page-size'], help, 1);
  const page = integer('page', values.page, help, 1);
  const customFields = values.fields
    ?.split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '');
  const filters = parseFilters(values.filter, help);
  const query = {
    ...(profile ? { profile } : {}),
    ...(sort ? { sort } : {}),
    ...(pageSize === undefined ? {} : { pageSize }),
    ...(customFields && customFields.length > 0 ? { customFields } : {}),
    ...(filters ? { filters } : {}),
  };
  if (values.csv) {
    // Every match unless a page or cursor is asked for: the gateway streams it, and so does this.
    return withClient(values.url, async (client) => {
      const csvQuery = { ...query, ...(page === undefined ? {} : { page }), ...(values.cursor === undefined ? {} : { cursor: values.cursor }) };
      for await (const chunk of client.streamResultsCsv(taskId, csvQuery)) {
        if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve));
      }
      return EXIT_OK;
    });
  }
  return withClient(values.url, async (client) => {
    let result: ResultsPage;
    if (values.cursor !== undefined) {
      result = await client.getResults(taskId, { cursor: values.cursor });
    } else if (values.all) {
      const pages: ResultsPage[] = [];
      for await (const one of client.iteratePages(taskId, query)) pages.push(one);
      const first = pages[0];
      if (!first) throw new NessusMcpError('invalid_response', 'the gateway returned no results page');
      result = { schema: first.schema, metadata: first.metadata, vulnerabilities: pages.flatMap((p) => p.vulnerabilities), pagination: null };
    } else {
      result = await client.getResults(taskId, { ...query, ...(page === undefined ? {} : { page }) });
    }
    if (values.json) printJson(result);
    else out(formatResults(result, { taskId, width: process.stdout.columns ?? 120, all: values.all }));
    return EXIT_OK;
  });
}

async function tasksCommand(args: string[], run: Run): Promise<number> {
  const help = TASKS_HELP;
  run.help = help;
  const { values, positionals } = parse(help, () =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { ...connection, status: { type: 'string' }, limit: { type: 'string' }, pool: { type: 'string' }, target: { type: 'string' } },
    }),
  );
  run.json = values.json;
  if (values.help) {
    out(help);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0] ?? ''}'`, help);
  const status = oneOf<TaskStatus>('status', values.status, TASK_STATUSES, help);
  const limit = integer('limit', values.limit, help, 1);
  return withClient(values.url, async (client) => {
    const list = await client.listTasks({
      ...(status ? { status } : {}),
      ...(limit === undefined ? {} : { limit }),
      ...(values.pool ? { scannerPool: values.pool } : {}),
      ...(values.target ? { target: values.target } : {}),
    });
    if (values.json) printJson(list);
    else out(tasksTable(list.tasks));
    return EXIT_OK;
  });
}

async function cancelCommand(args: string[], run: Run): Promise<number> {
  const help = CANCEL_HELP;
  run.help = help;
  const { values, positionals } = parse(help, () => parseArgs({ args, allowPositionals: true, strict: true, options: connection }));
  run.json = values.json;
  if (values.help) {
    out(help);
    return EXIT_OK;
  }
  const taskId = singleTaskId(positionals, help);
  return withClient(values.url, async (client) => {
    const result = await client.cancel(taskId);
    if (values.json) printJson(result);
    else out(`Task ${result.task_id}: ${result.status}${result.message ? ` (${result.message})` : ''}`);
    return EXIT_OK;
  });
}

async function diffCommand(args: string[], run: Run): Promise<number> {
  const help = DIFF_HELP;
  run.help = help;
  const { values, positionals } = parse(help, () =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        ...connection,
        change: { type: 'string' },
        page: { type: 'string' },
        'page-size': { type: 'string' },
        filter: { type: 'string', multiple: true, default: [] },
        sort: { type: 'string' },
      },
    }),
  );
  run.json = values.json;
  if (values.help) {
    out(help);
    return EXIT_OK;
  }
  const [base, taskId, extra] = positionals;
  if (!base || !taskId || extra !== undefined) throw new UsageError('give the base task id (or "previous") and the newer task id', help);
  const change = values.change
    ?.split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  for (const c of change ?? [])
    if (!(CHANGE_CLASSES as readonly string[]).includes(c)) throw new UsageError(`--change: unknown class '${c}'; valid: ${CHANGE_CLASSES.join(', ')}`, help);
  const sort = oneOf<SortKey>('sort', values.sort, SORT_KEYS, help);
  const page = integer('page', values.page, help, 0);
  const pageSize = integer('page-size', values['page-size'], help, 1);
  const filters = parseFilters(values.filter, help);
  return withClient(values.url, async (client) => {
    const delta = await client.compareScans(taskId, base, {
      ...(change && change.length > 0 ? { change: change as ChangeClass[] } : {}),
      ...(sort ? { sort } : {}),
      ...(page === undefined ? {} : { page }),
      ...(pageSize === undefined ? {} : { pageSize }),
      ...(filters ? { filters } : {}),
    });
    if (values.json) printJson(delta);
    else {
      const { counts, base_task_id: baseId, notes } = delta.summary;
      const rows = [`${baseId} → ${taskId}`, CHANGE_CLASSES.map((c) => `${c}: ${counts[c]}`).join('  '), ...notes.map((note) => `note: ${note}`), ''];
      for (const v of delta.vulnerabilities) {
        const was = v.previous_severity === undefined ? '' : ` (was ${String(v.previous_severity)})`;
        rows.push(
          `${v.change.padEnd(13)} sev ${String(v.severity)}${was}  ${String(v.host)}:${String(v.port)}/${String(v.protocol)}  ${String(v.plugin_id)} ${String(v.plugin_name ?? '')}`,
        );
      }
      const pagination = delta.pagination;
      if (pagination?.has_next === true) rows.push(`more: --page ${String(pagination.next_page)}`);
      out(rows.join('\n'));
    }
    return EXIT_OK;
  });
}

async function searchCommand(args: string[], run: Run): Promise<number> {
  const help = SEARCH_HELP;
  run.help = help;
  const { values, positionals } = parse(help, () =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        ...connection,
        cve: { type: 'string' },
        plugin: { type: 'string' },
        host: { type: 'string' },
        history: { type: 'boolean' },
        page: { type: 'string' },
        'page-size': { type: 'string' },
      },
    }),
  );
  run.json = values.json;
  if (values.help) {
    out(help);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0] ?? ''}'`, help);
  const pluginId = integer('plugin', values.plugin, help, 1);
  if (!values.cve && pluginId === undefined && !values.host) throw new UsageError('give --cve, --plugin or --host', help);
  const page = integer('page', values.page, help, 0);
  const pageSize = integer('page-size', values['page-size'], help, 1);
  return withClient(values.url, async (client) => {
    const result = await client.searchFindings({
      ...(values.cve ? { cve: values.cve } : {}),
      ...(pluginId === undefined ? {} : { pluginId }),
      ...(values.host ? { host: values.host } : {}),
      ...(values.history ? { scope: 'history' as const } : {}),
      ...(page === undefined ? {} : { page }),
      ...(pageSize === undefined ? {} : { pageSize }),
    });
    if (values.json) printJson(result);
    else {
      const rows = [`${String(result.schema.total_occurrences)} occurrence(s) in ${String(result.schema.scans_searched)} scan(s)`];
      for (const scan of result.hostScans)
        rows.push(`scan ${String(scan.task_id)} (${String(scan.scan_completed_at)}): ${JSON.stringify(scan.severity_counts)}`);
      for (const o of result.occurrences) {
        rows.push(
          `${o.host}:${o.port}/${o.protocol}  sev ${o.severity}  ${o.plugin_id} ${o.plugin_name}  ${o.task_id}  seen ${o.times_seen}x ${o.first_seen} → ${o.last_seen}`,
        );
      }
      out(rows.join('\n'));
    }
    return EXIT_OK;
  });
}

async function summaryCommand(args: string[], run: Run): Promise<number> {
  const help = SUMMARY_HELP;
  run.help = help;
  const { values, positionals } = parse(help, () =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { ...connection, by: { type: 'string' }, filter: { type: 'string', multiple: true, default: [] }, top: { type: 'string' } },
    }),
  );
  run.json = values.json;
  if (values.help) {
    out(help);
    return EXIT_OK;
  }
  const taskId = singleTaskId(positionals, help);
  const groupBy = oneOf<GroupBy>('by', values.by, GROUP_BY_KEYS, help);
  if (!groupBy) throw new UsageError(`missing --by (${GROUP_BY_KEYS.join(' | ')})`, help);
  const top = integer('top', values.top, help, 1);
  const filters = parseFilters(values.filter, help);
  return withClient(values.url, async (client) => {
    const summary = await client.summarizeFindings(taskId, groupBy, { ...(filters ? { filters } : {}), ...(top === undefined ? {} : { top }) });
    if (values.json) printJson(summary);
    else out(formatSummary(summary, process.stdout.columns ?? 120));
    return EXIT_OK;
  });
}

async function findingCommand(args: string[], run: Run): Promise<number> {
  const help = FINDING_HELP;
  run.help = help;
  const { values, positionals } = parse(help, () => parseArgs({ args, allowPositionals: true, strict: true, options: connection }));
  run.json = values.json;
  if (values.help) {
    out(help);
    return EXIT_OK;
  }
  const [taskId, findingId] = positionals;
  if (positionals.length !== 2 || !taskId || !findingId) throw new UsageError('give <task_id> and <finding_id>', help);
  return withClient(values.url, async (client) => {
    const detail = await client.getFinding(taskId, findingId);
    if (values.json) printJson(detail);
    else out(formatFinding(detail));
    return EXIT_OK;
  });
}

/** Hands a file to the desktop's opener; false when there is none (a server without a browser). */
function openInBrowser(path: string): Promise<boolean> {
  const [command, commandArgs] =
    process.platform === 'darwin' ? ['open', [path]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', path]] : ['xdg-open', [path]];
  return new Promise((done) => {
    const child = spawn(command, commandArgs, { stdio: 'ignore', detached: true });
    child.once('error', () => done(false));
    child.once('spawn', () => {
      child.unref();
      done(true);
    });
  });
}

async function reportCommand(args: string[], run: Run): Promise<number> {
  const help = REPORT_HELP;
  run.help = help;
  const { values, positionals } = parse(help, () =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { ...connection, output: { type: 'string', short: 'o' }, open: { type: 'boolean', default: false } },
    }),
  );
  run.json = values.json;
  if (values.help) {
    out(help);
    return EXIT_OK;
  }
  const taskId = singleTaskId(positionals, help);
  const path = resolve(values.output ?? `${taskId}-report.html`);
  return withClient(values.url, async (client) => {
    const html = await client.getReportHtml(taskId);
    await writeFile(path, html, 'utf8');
    const bytes = Buffer.byteLength(html);
    const opened = values.open ? await openInBrowser(path) : false;
    if (values.json) printJson({ task_id: taskId, path, bytes, opened });
    else {
      out(`Report of task ${taskId} written to ${path} (${Math.ceil(bytes / 1024)} KB)`);
      if (values.open && !opened) process.stderr.write('nessus-mcp: no browser opener found (xdg-open); open the file yourself\n');
    }
    return EXIT_OK;
  });
}

const COMMANDS: Record<string, { help: string; run: (args: string[], run: Run) => Promise<number> }> = {
  scan: { help: SCAN_HELP, run: scanCommand },
  status: { help: STATUS_HELP, run: statusCommand },
  results: { help: RESULTS_HELP, run: resultsCommand },
  summary: { help: SUMMARY_HELP, run: summaryCommand },
  finding: { help: FINDING_HELP, run: findingCommand },
  report: { help: REPORT_HELP, run: reportCommand },
  tasks: { help: TASKS_HELP, run: tasksCommand },
  cancel: { help: CANCEL_HELP, run: cancelCommand },
  diff: { help: DIFF_HELP, run: diffCommand },
  search: { help: SEARCH_HELP, run: searchCommand },
};

function report(error: unknown, run: Run): number {
  if (error instanceof UsageError) {
    process.stderr.write(`nessus-mcp: ${error.message}\n${error.help ? 'Run with --help for usage.\n' : ''}`);
    return EXIT_USAGE;
  }
  if (error instanceof PromptCancelled) {
    process.stderr.write('nessus-mcp: cancelled\n');
    return EXIT_INTERRUPTED;
  }
  const failure = error instanceof NessusMcpError ? error : new NessusMcpError('internal', error instanceof Error ? error.message : String(error));
  if (run.json) printJson(failure.toJSON());
  const hint = typeof failure.details?.hint === 'string' ? ` (${failure.details.hint})` : '';
  process.stderr.write(`nessus-mcp: error: ${failure.message} [${failure.code}]${hint}\n`);
  return failure.code === 'aborted' ? EXIT_INTERRUPTED : EXIT_ERROR;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' && rest[0] ? COMMANDS[rest[0]] : undefined;
    out(topic ? topic.help : GENERAL_HELP);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (command === '--version') {
    out(VERSION);
    return EXIT_OK;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`nessus-mcp: unknown command '${command}'; commands: ${Object.keys(COMMANDS).join(', ')}\n`);
    return EXIT_USAGE;
  }
  const run: Run = { json: rest.includes('--json'), help: entry.help };
  try {
    return await entry.run(rest, run);
  } catch (error) {
    return report(error, run);
  }
}

process.exitCode = await main(process.argv.slice(2));
