import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppError } from '@nessus-mcp/core/errors';
import type { Finding } from '@nessus-mcp/nessus-parser';
import { PROFILE_NAMES, SORT_KEYS, renderResultLines, resolveResultQuery } from '@nessus-mcp/schema';
import type { ResultQueryInput } from '@nessus-mcp/schema';
import { ingestExport } from '../src/ingest.js';
import { queryResults } from '../src/query.js';
import { ResultStore } from '../src/store.js';
import { scanFactsOf } from '../src/summary.js';
import { TASK, parseFindings, taskDirWith } from './fixtures.js';

let store: ResultStore;
let findings: Finding[];
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const task = await taskDirWith('local3');
  cleanup = task.cleanup;
  await ingestExport({ files: task.files, taskId: task.taskId });
  store = await ResultStore.open(task.storeDir);
  findings = await parseFindings('local3');
});
afterAll(() => cleanup());

const lines = async (input: ResultQueryInput) =>
  (await (await queryResults(store, input, TASK)).toArray()).map((l) => JSON.parse(l) as Record<string, unknown>);
const vulnerabilities = (all: Record<string, unknown>[]) => all.filter((line) => line.type === 'vulnerability');

describe('paging a stored result', () => {
  it.each(PROFILE_NAMES.flatMap((profile) => [null, ...SORT_KEYS].map((sort) => [profile, sort] as const)))(
    'profile %s sorted by %s: the pages concatenate to page 0, which equals the in-memory reference',
    async (schema_profile, sort) => {
      const everything = await (await queryResults(store, { page: 0, schema_profile, sort }, TASK)).toArray();
      const reference = renderResultLines(findings, resolveResultQuery({ page: 0, schema_profile, sort }), TASK, scanFactsOf(store.summary));
      expect(everything).toEqual(reference);
      const paged: Record<string, unknown>[] = [];
      for (let page = 1; page <= 20; page += 1) {
        const response = await lines({ page, page_size: 25, schema_profile, sort });
        paged.push(...vulnerabilities(response));
        if (response.at(-1)?.has_next !== true) break;
      }
      expect(paged).toEqual(vulnerabilities(everything.map((l) => JSON.parse(l) as Record<string, unknown>)));
      expect(paged).toHaveLength(findings.length);
    },
  );

  it('pages a filtered, sorted query identically to the reference', async () => {
    const input: ResultQueryInput = {
      page: 2,
      page_size: 10,
      filters: { severity: '>=1', host: '192.168.2.0/24' },
      sort: 'severity',
      schema_profile: 'summary',
    };
    const reference = renderResultLines(findings, resolveResultQuery(input), TASK, scanFactsOf(store.summary)).map(
      (l) => JSON.parse(l) as Record<string, unknown>,
    );
    const stored = await lines(input);
    // The store's pagination line adds the next page's cursor, which the in-memory reference cannot issue.
    expect(stored.at(-1)).toMatchObject({ type: 'pagination', cursor: expect.any(String) });
    expect(stored.map(({ cursor: _cursor, ...line }) => line)).toEqual(reference.map(({ cursor: _cursor, ...line }) => line));
  });

  it('returns no findings and has_next false past the last page', async () => {
    const response = await lines({ page: 50, page_size: 10 });
    expect(vulnerabilities(response)).toHaveLength(0);
    expect(response.at(-1)).toEqual({ type: 'pagination', page: 50, page_size: 10, total_pages: 11, has_next: false, next_page: null, cursor: null });
  });

  it('clamps page_size into 10–100', async () => {
    expect(vulnerabilities(await lines({ page: 1, page_size: 1 }))).toHaveLength(10);
    expect(vulnerabilities(await lines({ page: 1, page_size: 1000 }))).toHaveLength(100);
    expect((await lines({ page: 1, page_size: 1000 })).at(-1)).toMatchObject({ page_size: 100, total_pages: 2, has_next: true, next_page: 2 });
  });

  it('refuses a negative page and unknown fields with invalid_argument', async () => {
    await expect(queryResults(store, { page: -1 }, TASK)).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(queryResults(store, { filters: { sev: 3 } }, TASK)).rejects.toBeInstanceOf(AppError);
    await expect(queryResults(store, { custom_fields: ['nope'] }, TASK)).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('fills scan_metadata from the task and the stored summary', async () => {
    const [, metadata] = await lines({ page: 1 });
    expect(metadata).toEqual({
      type: 'scan_metadata',
      ...TASK,
      hosts_scanned: 3,
      total_vulnerabilities: findings.filter((f) => f.severity >= 1).length,
      severity_breakdown: store.summary.severity_breakdown,
      authentication_status: 'failed',
    });
  });
});

describe('paging with cursors', () => {
  const query: ResultQueryInput = { filters: { severity: '>=1' }, sort: 'host', schema_profile: 'minimal', page_size: 10 };

  it('follows cursors through the same pages as page numbers, the last page carrying none', async () => {
    const byCursor: Record<string, unknown>[] = [];
    let response = await lines({ ...query, page: 1 });
    let pages = 1;
    for (;;) {
      byCursor.push(...vulnerabilities(response));
      const cursor = response.at(-1)?.cursor;
      if (cursor === null) break;
      expect(typeof cursor).toBe('string');
      // The cursor alone carries the query.
      response = await lines({ cursor: cursor as string });
      pages += 1;
      expect(response.at(-1)).toMatchObject({ page: pages, page_size: 10 });
    }
    const everything = vulnerabilities(await lines({ ...query, page: 0 }));
    expect(byCursor).toEqual(everything);
    expect(pages).toBe(Math.ceil(everything.length / 10));
  });

  it('refuses a cursor from a store that was ingested again with conflict', async () => {
    const task = await taskDirWith('local3');
    try {
      await ingestExport({ files: task.files, taskId: task.taskId });
      const before = await ResultStore.open(await task.files.resultStoreDirectory(task.taskId));
      const cursor = (await (await queryResults(before, { page: 1 }, TASK)).toArray()).map((l) => JSON.parse(l) as Record<string, unknown>).at(-1)
        ?.cursor as string;
      expect(await queryResults(before, { cursor }, TASK)).toMatchObject({ page: 2 });
      await ingestExport({ files: task.files, taskId: task.taskId });
      const after = await ResultStore.open(await task.files.resultStoreDirectory(task.taskId));
      await expect(queryResults(after, { cursor }, TASK)).rejects.toMatchObject({ code: 'conflict', details: { field: 'cursor' } });
    } finally {
      await task.cleanup();
    }
  });
});
