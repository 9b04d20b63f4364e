import { projectFinding, resolveResultQuery, resultEnvelope, vulnerabilityLine } from '@nessus-mcp/schema';
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
  toArray(): Promise<string[]>;
  /** The lines joined, each ending in a newline: the MCP text block and the REST body. */
  toText(): Promise<string>;
}

/**
 * Answers a results query from an ingested store: validates the parameters (`invalid_argument`),
 * selects and orders matching rows from the columns, then reads only this page's records.
 * `task` is what the task record knows; hosts, severities and authentication come from the store.
 */
export async function queryResults(store: ResultStore, input: ResultQueryInput, task: TaskMetadata): Promise<ResultPage> {
  const query = resolveResultQuery(input);
  const rows = await store.select(query.filters, query.sort);
  const envelope = resultEnvelope(query, rows.length, task, scanFactsOf(store.summary));
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

  const page: ResultPage = {
    profile: query.projection.profile,
    page: envelope.window.page,
    page_size: envelope.window.page_size,
    total_vulnerabilities: rows.length,
    total_pages: envelope.window.total_pages,
    returned: pageRows.length,
    [Symbol.asyncIterator]: () => lines(),
    toArray: async () => {
      const all: string[] = [];
      for await (const line of lines()) all.push(line);
      return all;
    },
    toText: async () => `${(await page.toArray()).join('\n')}\n`,
  };
  return page;
}
