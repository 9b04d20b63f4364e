import type { GroupBy, ListTasksQuery, PrivilegedScanParams, ResultsQuery, SummaryQuery, TrustedScanParams, UntrustedScanParams } from './types.js';

/** Tool arguments as sent: snake_case keys, no `undefined` values (absent means "server default"). */
export type ToolArguments = Record<string, unknown>;

function defined(entries: Record<string, unknown>): ToolArguments {
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
}

/** The tools take targets as one string, as agents write them (`"10.0.0.1, 10.0.1.0/24"`). */
export function targetsArgument(targets: string | readonly string[]): string {
  return typeof targets === 'string'
    ? targets
    : targets
        .map((t) => t.trim())
        .filter((t) => t !== '')
        .join(',');
}

export function untrustedScanArguments(params: UntrustedScanParams): ToolArguments {
  return defined({
    targets: targetsArgument(params.targets),
    name: params.name,
    description: params.description,
    schema_profile: params.schemaProfile,
    idempotency_key: params.idempotencyKey,
    scanner_pool: params.scannerPool,
    scanner_instance: params.scannerInstance,
  });
}

export function trustedScanArguments(params: TrustedScanParams): ToolArguments {
  return defined({
    ...untrustedScanArguments(params),
    ssh_username: params.sshUsername,
    ssh_password: params.sshPassword,
    ssh_private_key: params.sshPrivateKey,
    ssh_private_key_passphrase: params.sshPrivateKeyPassphrase,
    ssh_port: params.sshPort,
  });
}

export function privilegedScanArguments(params: PrivilegedScanParams): ToolArguments {
  return defined({
    ...trustedScanArguments(params),
    elevate_privileges_with: params.elevatePrivilegesWith,
    escalation_account: params.escalationAccount,
    escalation_password: params.escalationPassword,
    su_login: params.suLogin,
  });
}

export function resultsArguments(taskId: string, query: ResultsQuery): ToolArguments {
  return defined({
    task_id: taskId,
    page: query.page,
    page_size: query.pageSize,
    schema_profile: query.profile,
    custom_fields: query.customFields,
    filters: query.filters,
    sort: query.sort,
    cursor: query.cursor,
  });
}

export function listTasksArguments(query: ListTasksQuery): ToolArguments {
  return defined({ limit: query.limit, status: query.status, scanner_pool: query.scannerPool, target: query.target });
}

export function summaryArguments(taskId: string, groupBy: GroupBy, query: SummaryQuery): ToolArguments {
  return defined({ task_id: taskId, group_by: groupBy, filters: query.filters, top: query.top });
}
