import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { lazyChildLoggerFactory } from '../src/http/lazy-child-logger.js';

function capture(level: string): { parent: FastifyBaseLogger; lines: Array<Record<string, unknown>>; children: () => number } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const parent = pino({ level }, sink) as unknown as FastifyBaseLogger;
  let made = 0;
  const child = parent.child.bind(parent);
  parent.child = ((bindings, options) => {
    made += 1;
    return child(bindings, options);
  }) as FastifyBaseLogger['child'];
  return { parent, lines, children: () => made };
}

describe('the per-request logger', () => {
  it('makes no pino child for a request that logs nothing at the level in force', () => {
    const { parent, lines, children } = capture('warn');
    const log = lazyChildLoggerFactory(parent, { trace_id: 't-1' }, {});
    log.info('incoming request');
    log.debug({ detail: 1 }, 'not written');
    expect(log.level).toBe('warn');
    expect(children()).toBe(0);
    expect(lines).toEqual([]);
  });

  it('writes with the request bindings once a line passes the level', () => {
    const { parent, lines, children } = capture('warn');
    const log = lazyChildLoggerFactory(parent, { trace_id: 't-2' }, {});
    log.warn({ code: 'x' }, 'first');
    log.error('second');
    expect(children()).toBe(1);
    expect(lines.map((line) => [line.trace_id, line.msg])).toEqual([
      ['t-2', 'first'],
      ['t-2', 'second'],
    ]);
  });

  it('makes the child at once for a route with a level of its own', () => {
    const { parent, children } = capture('info');
    const log = lazyChildLoggerFactory(parent, { trace_id: 't-3' }, { level: 'warn' });
    expect(children()).toBe(1);
    expect(log.level).toBe('warn');
  });
});
