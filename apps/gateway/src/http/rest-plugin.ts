import { Readable } from 'node:stream';
import { AppError, ESCALATION_METHODS, zodIssuesToError, type ScanType } from '@nessus-mcp/core';
import { cleanUntrustedValue, decimalQueryNumber, pageParam, pageSizeParam, resultQueryStringSchema } from '@nessus-mcp/schema';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  MAX_SUMMARY_TOP,
  compareScansShape,
  findingIdParam,
  listTasksShape,
  poolFilterShape,
  privilegedScanInput,
  searchFindingsShape,
  summarizeShape,
  taskIdParam,
  trustedScanInput,
  untrustedScanInput,
  type ScanInput,
} from '../schemas/tool-inputs.js';
import {
  errorBodyOutput,
  findingOutput,
  queueStatusOutput,
  scannersOutput,
  submitScanOutput,
  summaryOutput,
  taskListOutput,
  taskViewOutput,
} from '../schemas/tool-outputs.js';
import type { GatewayServices } from '../services/gateway-services.js';
import type { CallContext } from '../services/service-context.js';
import { taskRestLinks } from '../services/task-view.js';
import type { Logger } from '@nessus-mcp/core';

const taskParams = z.object({ task_id: taskIdParam });
const findingParams = z.object({ task_id: taskIdParam, finding_id: findingIdParam });
const summaryQuery = z.strictObject({
  group_by: summarizeShape.group_by,
  filters: z.string().optional().describe('JSON object, as in get_scan_results, e.g. {"severity": ">=3"}.'),
  top: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_SUMMARY_TOP)
    .optional()
    .describe(summarizeShape.top.description ?? ''),
});
const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Makes a retry safe for 48 h: same key and body return the original task (same as the idempotency_key field).'),
});
const listTasksQuery = z.strictObject({
  ...listTasksShape,
  limit: decimalQueryNumber
    .pipe(listTasksShape.limit.unwrap())
    .optional()
    .describe(listTasksShape.limit.description ?? ''),
});
const poolQuery = z.strictObject(poolFilterShape);
const deltaQuery = resultQueryStringSchema.extend({
  base_task_id: compareScansShape.base_task_id,
  change: z
    .union([z.string(), z.array(z.string())])
    .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((name) => name.trim()).filter((name) => name !== ''))
    .pipe(z.array(z.enum(['new', 'fixed', 'not_rescanned', 'persisting', 'changed'])).min(1))
    .optional()
    .describe(compareScansShape.change.description ?? ''),
});
const searchQuery = z.strictObject({
  ...searchFindingsShape,
  plugin_id: z.coerce
    .number()
    .pipe(searchFindingsShape.plugin_id.unwrap())
    .optional()
    .describe(searchFindingsShape.plugin_id.description ?? ''),
  page: z.coerce.number().pipe(pageParam).optional(),
  page_size: z.coerce.number().pipe(pageSizeParam).optional(),
});

/** Streams JSON-NL lines as an application/x-ndjson body. */
function ndjson(lines: AsyncIterable<string> | Iterable<string>): Readable {
  return Readable.from(
    (async function* () {
      for await (const line of lines) yield `${line}\n`;
    })(),
  );
}
const restTaskView = taskViewOutput.extend({
  links: taskViewOutput.shape.links
    .extend({ results: z.string().nullable(), results_csv: z.string().nullable(), report_nessus: z.string().nullable() })
    .describe("REST paths of this task's readable report, findings (JSON-NL, CSV) and raw export, once they exist."),
});
const auditQuery = z.strictObject({
  limit: decimalQueryNumber.pipe(z.number().int().min(1).max(1000)).default(100).describe('Records per page, newest first (1-1000, default 100).'),
  before: z
    .string()
    .regex(/^\d{1,20}-\d{1,20}$/, 'is not an audit record id (they look like 1764599422123-0)')
    .optional()
    .describe('Return records older than this id (the last id of the previous page).'),
});
const auditOutput = z.object({
  records: z.array(
    z.object({
      id: z.string(),
      time: z.string(),
      client: z.string(),
      action: z.string(),
      task_id: z.string().nullable(),
      targets: z.array(z.string()).nullable(),
      outcome: z.string(),
      detail: z.string().nullable(),
    }),
  ),
  next_before: z.string().nullable(),
});
const errors = { 400: errorBodyOutput, 401: errorBodyOutput, 403: errorBodyOutput, 404: errorBodyOutput, 409: errorBodyOutput, 422: errorBodyOutput };

function callOf(request: FastifyRequest): CallContext {
  // The auth hook ran first and refused anyone it could not name.
  if (!request.principal) throw new AppError('unauthorized', 'no authenticated client');
  return { traceId: request.id, logger: request.log as unknown as Logger, principal: request.principal };
}

const SCAN_ROUTES: Array<{ type: ScanType; body: z.ZodObject; summary: string }> = [
  { type: 'untrusted', body: untrustedScanInput, summary: 'Start an unauthenticated scan (run_untrusted_scan)' },
  { type: 'trusted', body: trustedScanInput, summary: 'Start a credentialed SSH scan (run_trusted_scan)' },
  {
    type: 'privileged',
    body: privilegedScanInput,
    summary: `Start a credentialed scan with privilege escalation: ${ESCALATION_METHODS.join(', ')} (run_privileged_scan)`,
  },
];

/**
 * Scan submissions take everything in the JSON body. A password in a query string would be kept
 * by proxies, browser history and access logs, so any query parameter is refused, by name only.
 */
async function refuseQueryParameters(request: FastifyRequest): Promise<void> {
  const names = Object.keys((request.query ?? {}) as Record<string, unknown>);
  if (names.length > 0) {
    throw new AppError(
      'invalid_argument',
      `scan routes take no query parameters (got ${names.map((n) => `'${n.slice(0, 40)}'`).join(', ')}): send targets, options and credentials in the JSON body; query strings end up in logs and proxies`,
      {
        details: { fields: names.slice(0, 20) },
      },
    );
  }
}

/**
 * The REST mirror: each route is the twin of one MCP tool, parsing with the same zod objects
 * (through the same error formatter) and calling the same service function.
 */
export const restPlugin: FastifyPluginAsync<{ services: GatewayServices }> = async (plain, { services }) => {
  const app = plain.withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler<z.ZodType>(({ schema }) => (data: unknown) => {
    const result = schema.safeParse(data);
    return result.success ? { value: result.data } : { error: zodIssuesToError(result.error.issues) };
  });
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onRequest', app.requireAuth());
  // JSON answers (task views quote scan names and plugin output) leave without invisible or control
  // characters; streamed bodies (JSON-NL, CSV) are cleaned by their line writers.
  app.addHook('preSerialization', async (_request, _reply, payload) => cleanUntrustedValue(payload));

  for (const route of SCAN_ROUTES) {
    app.post(
      `/scans/${route.type}`,
      {
        config: { scope: 'nessus:scan' },
        preValidation: refuseQueryParameters,
        schema: {
          tags: ['scans'],
          summary: route.summary,
          body: route.body,
          headers: idempotencyHeaders,
          response: { 200: submitScanOutput, 202: submitScanOutput, ...errors },
        },
      },
      async (request, reply) => {
        const body = request.body as ScanInput;
        const headerKey = request.headers['idempotency-key'];
        if (headerKey !== undefined && body.idempotency_key !== undefined && headerKey !== body.idempotency_key) {
          throw new AppError('invalid_argument', 'idempotency_key: the Idempotency-Key header and the body field differ; send one of them');
        }
        const input = headerKey === undefined ? body : { ...body, idempotency_key: headerKey };
        const answer = await services.submitScan(route.type, input, callOf(request));
        // 200 for a dry run: nothing was accepted for later processing.
        return reply.status(answer.status === 'dry_run' ? 200 : 202).send(answer);
      },
    );
  }

  app.get(
    '/tasks',
    {
      config: { scope: 'nessus:read' },
      schema: { tags: ['tasks'], summary: 'List tasks, newest first (list_tasks)', querystring: listTasksQuery, response: { 200: taskListOutput, ...errors } },
    },
    async (request) => services.listTasks(request.query),
  );

  app.get(
    '/tasks/:task_id',
    {
      config: { scope: 'nessus:read' },
      schema: {
        tags: ['tasks'],
        summary: 'Status of one task (get_scan_status), with links to its downloads',
        params: taskParams,
        response: { 200: restTaskView, ...errors },
      },
    },
    async (request) => {
      const view = await services.getScanStatus(request.params.task_id, callOf(request));
      return { ...view, links: taskRestLinks(view) };
    },
  );

  app.get(
    '/tasks/:task_id/results',
    {
      config: { scope: 'nessus:read' },
      schema: {
        tags: ['tasks'],
        summary: 'Findings as JSON-NL, application/x-ndjson (get_scan_results); filters is a JSON string',
        params: taskParams,
        querystring: resultQueryStringSchema,
      },
    },
    async (request, reply) => {
      const page = await services.getScanResults({ task_id: request.params.task_id, ...request.query });
      const lines = Readable.from(
        (async function* () {
          for await (const line of page) yield `${line}\n`;
        })(),
      );
      return reply.type('application/x-ndjson; charset=utf-8').send(lines);
    },
  );

  app.get(
    '/tasks/:task_id/delta',
    {
      config: { scope: 'nessus:read' },
      schema: {
        tags: ['tasks'],
        summary: 'What changed since a base scan, as JSON-NL (compare_scans); base_task_id is a task id or "previous"',
        params: taskParams,
        querystring: deltaQuery,
      },
    },
    async (request, reply) => {
      const page = await services.compareScans({ task_id: request.params.task_id, ...request.query });
      return reply.type('application/x-ndjson; charset=utf-8').send(ndjson(page));
    },
  );

  app.get(
    '/tasks/:task_id/results.csv',
    {
      config: { scope: 'nessus:read' },
      schema: {
        tags: ['tasks'],
        summary: 'Findings as CSV (RFC 4180, text/csv), same filters, sort and profiles as /results; every match unless page or cursor is given',
        description:
          "One header record (the profile's fields; full = every field, compliance as compliance.* columns), then one record per finding. " +
          'Lists are joined with "; ". Cells starting with = + - @ get a leading apostrophe so spreadsheets never run them as formulas. Streamed.',
        params: taskParams,
        querystring: resultQueryStringSchema,
      },
    },
    async (request, reply) => {
      const { query } = request;
      // A spreadsheet wants the whole result: page 0 unless the caller pages explicitly.
      const page = await services.getScanResults({
        task_id: request.params.task_id,
        ...query,
        ...(query.page === undefined && query.cursor === undefined ? { page: 0 } : {}),
      });
      return reply
        .type('text/csv; charset=utf-8; header=present')
        .header('content-disposition', `attachment; filename="${request.params.task_id}-results.csv"`)
        .send(Readable.from(page.csv()));
    },
  );

  app.get(
    '/findings/search',
    {
      config: { scope: 'nessus:read' },
      schema: {
        tags: ['findings'],
        summary: 'Occurrences of a CVE, plugin or host across retained scans, as JSON-NL (search_findings)',
        querystring: searchQuery,
      },
    },
    async (request, reply) => {
      const page = await services.searchFindings(request.query);
      return reply.type('application/x-ndjson; charset=utf-8').send(ndjson(page.lines));
    },
  );

  app.get(
    '/tasks/:task_id/summary',
    {
      config: { scope: 'nessus:read' },
      schema: {
        tags: ['tasks'],
        summary: 'Finding counts per group (summarize_findings); filters is a JSON string',
        params: taskParams,
        querystring: summaryQuery,
        response: { 200: summaryOutput, ...errors },
      },
    },
    async (request) => services.summarizeFindings({ task_id: request.params.task_id, ...request.query }),
  );

  app.get(
    '/tasks/:task_id/findings/:finding_id',
    {
      config: { scope: 'nessus:read' },
      schema: { tags: ['tasks'], summary: 'One finding with every field (get_finding)', params: findingParams, response: { 200: findingOutput, ...errors } },
    },
    async (request) => services.getFinding(request.params),
  );

  app.get(
    '/tasks/:task_id/report.nessus',
    { config: { scope: 'nessus:read' }, schema: { tags: ['tasks'], summary: 'Download the raw .nessus export (streamed)', params: taskParams } },
    async (request, reply) => {
      const report = await services.openReport(request.params.task_id);
      return reply
        .type('application/xml')
        .header('content-length', String(report.size))
        .header('content-disposition', `attachment; filename="${report.filename}"`)
        .send(report.stream);
    },
  );

  app.post(
    '/tasks/:task_id/cancel',
    {
      config: { scope: 'nessus:scan' },
      schema: { tags: ['tasks'], summary: 'Cancel a queued or running scan (cancel_scan)', params: taskParams, response: { 200: taskViewOutput, ...errors } },
    },
    async (request) => services.cancelScan(request.params.task_id, callOf(request)),
  );

  app.get(
    '/scanners',
    {
      config: { scope: 'nessus:read' },
      schema: {
        tags: ['scanners'],
        summary: 'Scanner pools, capacity, load and health (list_scanners)',
        querystring: poolQuery,
        response: { 200: scannersOutput, ...errors },
      },
    },
    async (request) => services.listScanners(request.query),
  );

  app.get(
    '/audit',
    {
      config: { scope: 'nessus:admin' },
      schema: {
        tags: ['admin'],
        summary: 'The audit trail, newest first: submissions, cancels, admin actions, refused scope checks',
        querystring: auditQuery,
        response: { 200: auditOutput, ...errors },
      },
    },
    async (request) => {
      const records = await services.context.audit.list({ limit: request.query.limit, ...(request.query.before ? { before: request.query.before } : {}) });
      return { records, next_before: records.length === request.query.limit ? (records[records.length - 1]?.id ?? null) : null };
    },
  );

  app.get(
    '/queue',
    {
      config: { scope: 'nessus:read' },
      schema: {
        tags: ['scanners'],
        summary: 'Queue counts per pool and state (get_queue_status)',
        querystring: poolQuery,
        response: { 200: queueStatusOutput, ...errors },
      },
    },
    async (request) => services.getQueueStatus(request.query),
  );
};
