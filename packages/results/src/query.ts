import { AppError } from '@nessus-mcp/core/errors';
import {
  CursorCodec,
  RESULTS_CURSOR_KIND,
  csvColumns,
  csvHeader,
  csvRow,
  projectFinding,
  resolveResultQuery,
  resultEnvelope,
  vulnerabilityLine,
} from '@nessus-mcp/schema';
import type { ProfileName, ResultQueryInput, TaskMetadata } from '@nessus-mcp/schema';
import type { ResultStore } from './store.js';
import { scanFactsOf } from './summary.js';

/** Pages up to this size are read before `queryResults` returns; larger ones (page 0) stream in chunks. */
const EAGER_ROWS = 1000;
const STREAM_CHUNK_ROWS = 500;

/** The JSON-NL answer to one `get_scan_results` call: iterate it for the lines, in order. */
export interface ResultPage extends AsyncIterable<string> {
  readonly profile: ProfileName | 'custom';
  readonly page: number;
  readonly page_size: number;
  /** Findings matching the filters (all pages). */
  readonly total_vulnerabilities: number;
  readonly total_pages: number;
  /** Vulnerability lines in this response. */
  readonly returned: number;
  /** The cursor of the next page (null on the last page and for page 0). */
  readonly next_cursor: string | null;
  toArray(): Promise<string[]>;
  /** The same findings as CSV (a header record, then one record per finding), streamed in chunks. */
  csv(): AsyncIterable<string>;
  /** The lines joined, each ending in a newline: the MCP text block and the REST body. */
  toText(): Promise<string>;
}

// Without a configured key, cursors are signed with one random per process.
let processCodec: CursorCodec | null = null;

/** The codec of a process that configured none: a random key, so its cursors work in this process only. */
export function processCursorCodec(): CursorCodec {
  return (processCodec ??= CursorCodec.ephemeral());
}

export interface QueryResultsOptions {
  /** Signs and checks page cursors; give every gateway process the same key so cursors survive restarts. */
  cursors?: CursorCodec;
}

/**
 * Answers a results query from an ingested store: validates the parameters (`invalid_argument`),
 * selects and orders matching rows from the columns, then reads only this page's records.
 * `task` is what the task record knows; hosts, severities and authentication come from the store.
 * A cursor is bound to the task and to the store's identity: one issued before a re-ingest is `conflict`.
 */
export async function queryResults(store: ResultStore, input: ResultQueryInput, task: TaskMetadata, options: QueryResultsOptions = {}): Promise<ResultPage> {
  const codec = options.cursors ?? processCursorCodec();
  const query = resolveResultQuery(input, { codec, scope: task.task_id });
  const storeId = store.manifest.store_id;
  if (query.cursorStore !== null && query.cursorStore !== storeId) {
    throw new AppError(
      'conflict',
      'cursor: the results of this task were ingested again since this cursor was issued, so its pages no longer line up; start again from page 1',
      {
        details: { field: 'cursor' },
      },
    );
  }
  const rows = await store.select(query.filters, query.sort);
  const nextCursor = (page: number): string =>
    codec.encode({ kind: RESULTS_CURSOR_KIND, scope: task.task_id, store: storeId, page, query: { ...query.cursorQuery } });
  const envelope = resultEnvelope(query, rows.length, task, scanFactsOf(store.summary), nextCursor);
  const pageRows = rows.subarray(envelope.window.start, envelope.window.end);
  const render = async (chunk: Uint32Array): Promise<string[]> =>
    (await store.findings(chunk)).map((finding) => vulnerabilityLine(projectFinding(finding, query.projection)));
  const eager = pageRows.length <= EAGER_ROWS ? await render(pageRows) : null;

  async function* lines(): AsyncGenerator<string> {
    yield* envelope.header;
    if (eager) yield* eager;
    else {
      for (let start = 0; start < pageRows.length; start += STREAM_CHUNK_ROWS) {
        yield* await render(pageRows.subarray(start, start + STREAM_CHUNK_ROWS));
      }
    }
    if (envelope.footer !== null) yield envelope.footer;
  }

  async function* csvLines(): AsyncGenerator<string> {
    const columns = csvColumns(query.projection);
    yield csvHeader(columns);
    for (let start = 0; start < pageRows.length; start += STREAM_CHUNK_ROWS) {
      const findings = await store.findings(pageRows.subarray(start, start + STREAM_CHUNK_ROWS));
      yield findings.map((finding) => csvRow(finding, columns)).join('');
    }
  }

  const page: ResultPage = {
    profile: query.projection.profile,
    page: envelope.window.page,
    page_size: envelope.window.page_size,
    total_vulnerabilities: rows.length,
    total_pages: envelope.window.total_pages,
    returned: pageRows.length,
    next_cursor: envelope.cursor,
    [Symbol.asyncIterator]: () => lines(),
    csv: () => csvLines(),
    toArray: async () => {
      const all: string[] = [];
      for await (const line of lines()) all.push(line);
      return all;
    },
    toText: async () => `${(await page.toArray()).join('\n')}\n`,
  };
  return page;
}
