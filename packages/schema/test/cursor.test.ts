import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { CursorCodec } from '../src/cursor.js';
import { resolveResultQuery } from '../src/query.js';

const codec = new CursorCodec(randomBytes(32));
const context = { codec, scope: 'ne_scan_20250101_000000_aaaaaaaa' };

function nextCursor(input: Parameters<typeof resolveResultQuery>[0], page = 2, store = 'store-1'): string {
  const query = resolveResultQuery(input, context);
  return codec.encode({ kind: 'results', scope: context.scope, store, page, query: { ...query.cursorQuery } });
}

describe('page cursors', () => {
  it('carry the whole query: a cursor alone resolves to the same filters, sort, fields and page size', () => {
    const original = { filters: { severity: '>=3', host: '10.0.0.0/24' }, sort: 'severity', custom_fields: ['host', 'plugin_name'], page_size: 25 };
    const first = resolveResultQuery(original, context);
    const next = resolveResultQuery({ cursor: nextCursor(original, 3) }, context);
    expect(next.page).toBe(3);
    expect(next.pageSize).toBe(25);
    expect(next.filters.normalised).toEqual(first.filters.normalised);
    expect(next.sort?.key).toBe('severity');
    expect(next.projection).toEqual(first.projection);
    expect(next.cursorStore).toBe('store-1');
  });

  it('accept the same parameters repeated beside them (however spelled)', () => {
    const cursor = nextCursor({ filters: { severity: '>=3' }, schema_profile: 'summary' });
    expect(resolveResultQuery({ cursor, filters: '{"severity": ">= 3"}', schema_profile: 'summary' }, context).page).toBe(2);
  });

  it.each([
    ['filters', { filters: { severity: 4 } }],
    ['sort', { sort: 'host' }],
    ['page_size', { page_size: 50 }],
    ['fields', { schema_profile: 'full' }],
  ])('refuse other %s with invalid_argument', (what, other) => {
    const cursor = nextCursor({ filters: { severity: '>=3' }, schema_profile: 'summary' });
    expect(() => resolveResultQuery({ cursor, ...other }, context)).toThrow(
      expect.objectContaining({ code: 'invalid_argument', message: expect.stringContaining(what) }),
    );
  });

  it('refuse a cursor together with page, or from another task', () => {
    const cursor = nextCursor({});
    expect(() => resolveResultQuery({ cursor, page: 2 }, context)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(() => resolveResultQuery({ cursor }, { ...context, scope: 'ne_scan_20250101_000000_bbbbbbbb' })).toThrow(
      expect.objectContaining({ code: 'invalid_argument', message: expect.stringContaining('another task') }),
    );
  });

  it('refuse forged, garbled, cut and foreign cursors with invalid_argument', () => {
    const cursor = nextCursor({ filters: { severity: 4 } });
    const [body, mac] = cursor.split('.') as [string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { q: { w: Record<string, unknown> } };
    payload.q.w = { severity: '>=0' };
    const forged = `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${mac}`;
    const foreign = new CursorCodec(randomBytes(32)).encode({ kind: 'results', scope: context.scope, store: 'store-1', page: 2, query: { f: 'brief', n: 40 } });
    for (const bad of [forged, cursor.slice(0, -3), `${cursor}x`, 'not-a-cursor', '....', foreign]) {
      expect(() => resolveResultQuery({ cursor: bad }, context)).toThrow(expect.objectContaining({ code: 'invalid_argument', details: { field: 'cursor' } }));
    }
  });

  it('do not cross listings of another kind', () => {
    const delta = codec.encode({ kind: 'delta', scope: context.scope, store: 's', page: 2, query: { f: 'brief', n: 40 } });
    expect(() => resolveResultQuery({ cursor: delta }, context)).toThrow(
      expect.objectContaining({ code: 'invalid_argument', message: expect.stringContaining('delta') }),
    );
  });
});
