import { describe, expect, it } from '@jest/globals';
import { NessusMcpError, parseJsonLines, parseResultsPage } from '../src/index.js';

const SCHEMA = '{"type":"schema","profile":"brief","fields":["finding_id","severity"],"filters_applied":{},"total_vulnerabilities":2,"total_pages":1}';
const META = '{"type":"scan_metadata","task_id":"t1","scan_name":"s"}';
const V1 = '{"type":"vulnerability","finding_id":"a","severity":4}';
const V2 = '{"type":"vulnerability","finding_id":"b","severity":0}';
const PAGINATION = '{"type":"pagination","page":1,"page_size":40,"total_pages":1,"has_next":false,"next_page":null}';

function thrown(action: () => unknown): NessusMcpError {
  try {
    action();
  } catch (error) {
    if (error instanceof NessusMcpError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('parseJsonLines', () => {
  it('skips blank lines and accepts CRLF endings, keeping editor line numbers', () => {
    expect(parseJsonLines('{"a":1}\r\n\r\n  \n{"b":2}\n')).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 4, value: { b: 2 } },
    ]);
  });

  it('names the line that is not JSON', () => {
    const error = thrown(() => parseJsonLines('{"a":1}\n\nnot json at all\n'));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toBe('results line 3 is not JSON: not json at all');
    expect(error.details).toEqual({ line: 3 });
  });
});

describe('parseResultsPage', () => {
  it('splits a page into its four kinds of line', () => {
    const page = parseResultsPage([SCHEMA, META, V1, V2, PAGINATION].join('\n'));
    expect(page.schema.total_vulnerabilities).toBe(2);
    expect(page.metadata.task_id).toBe('t1');
    expect(page.vulnerabilities.map((v) => v.finding_id)).toEqual(['a', 'b']);
    expect(page.pagination).toMatchObject({ page: 1, has_next: false, next_page: null });
  });

  it('gives a null pagination for page 0 and skips line types it does not know', () => {
    const page = parseResultsPage([SCHEMA, META, '{"type":"hint","text":"new in a later gateway"}', V1].join('\n'));
    expect(page.pagination).toBeNull();
    expect(page.vulnerabilities).toHaveLength(1);
  });

  it('rejects a page without its schema line', () => {
    expect(thrown(() => parseResultsPage([META, V1].join('\n'))).message).toBe('results have no schema line');
  });

  it('names the line whose fields have the wrong type', () => {
    const error = thrown(() => parseResultsPage([SCHEMA, META, '{"type":"vulnerability","severity":"high"}'].join('\n')));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toContain('results line 3');
    expect(error.message).toContain('severity');
  });

  it('rejects a line that is JSON but not an object', () => {
    expect(thrown(() => parseResultsPage(`${SCHEMA}\n[1,2]`)).message).toBe('results line 2 is not a JSON object');
  });
});
