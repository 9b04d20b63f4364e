import { describe, expect, it } from '@jest/globals';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ErrorCode, type JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { RequestMultiplexer } from '../src/mcp/request-multiplexer.js';

/** A tool call the test settles by hand: `release(name)` lets the handler for `name` answer. */
function gatedServer() {
  const gates = new Map<string, () => void>();
  const signals = new Map<string, AbortSignal>();
  const callers = new Map<string, unknown>();
  const server = new Server({ name: 'mux-test', version: '1.0.0' }, { capabilities: { tools: {} } });
  const EchoRequest = z.object({ method: z.literal('tools/call'), params: z.object({ name: z.string() }).passthrough() });
  server.setRequestHandler(EchoRequest, async (request, extra) => {
    const name = request.params.name;
    signals.set(name, extra.signal);
    callers.set(name, extra.authInfo?.clientId);
    await new Promise<void>((resolve) => gates.set(name, resolve));
    return { content: [{ type: 'text', text: `answer for ${name}` }] };
  });
  const started = (name: string) => gates.has(name);
  const release = (name: string) => gates.get(name)?.();
  return { server, signals, callers, started, release };
}

const call = (id: string | number, name: string): JSONRPCRequest => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name } });
const extraOf = (clientId: string) => ({ authInfo: { token: 't', clientId, scopes: [] } });
const tick = () => new Promise((resolve) => setImmediate(resolve));

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i += 1) await tick();
  expect(condition()).toBe(true);
}

describe('one MCP server answering many stateless requests', () => {
  it('keeps two clients apart when both use the same JSON-RPC id, each answered under its own id', async () => {
    const { server, callers, started, release } = gatedServer();
    const mux = new RequestMultiplexer();
    await server.connect(mux);
    const first = mux.request(call(1, 'first'), extraOf('alice'));
    const second = mux.request(call(1, 'second'), extraOf('bob'));
    await until(() => started('first') && started('second'));
    expect(callers.get('first')).toBe('alice');
    expect(callers.get('second')).toBe('bob');
    // Settled in the other order: each answer still reaches the request it belongs to.
    release('second');
    release('first');
    expect(await second.answer).toEqual({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'answer for second' }] } });
    expect(await first.answer).toEqual({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'answer for first' }] } });
    await server.close();
  });

  it('answers a method it does not serve with the client id on the error', async () => {
    const { server } = gatedServer();
    const mux = new RequestMultiplexer();
    await server.connect(mux);
    const answer = await mux.request({ jsonrpc: '2.0', id: 'abc', method: 'prompts/list' }, extraOf('alice')).answer;
    expect(answer).toMatchObject({ jsonrpc: '2.0', id: 'abc', error: { code: ErrorCode.MethodNotFound } });
    await server.close();
  });

  it('tells the server when a client hangs up: the handler sees its signal abort', async () => {
    const { server, signals, started, release } = gatedServer();
    const mux = new RequestMultiplexer();
    await server.connect(mux);
    const gone = mux.request(call(5, 'gone'), extraOf('alice'));
    await until(() => started('gone'));
    gone.abandon();
    await until(() => signals.get('gone')?.aborted === true);
    release('gone');
    // The server can still answer others afterwards.
    const next = mux.request(call(6, 'next'), extraOf('alice'));
    await until(() => started('next'));
    release('next');
    expect(await next.answer).toMatchObject({ id: 6 });
    await server.close();
  });

  it("does not let a client's notifications/cancelled reach another client's request", async () => {
    const { server, signals, started, release } = gatedServer();
    const mux = new RequestMultiplexer();
    await server.connect(mux);
    const victim = mux.request(call(1, 'victim'), extraOf('alice'));
    await until(() => started('victim'));
    // Whatever id the attacker names, including this transport's own first id.
    for (const requestId of [1, 2, 0, 'victim']) {
      mux.notify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId } }, extraOf('mallory'));
    }
    await tick();
    expect(signals.get('victim')?.aborted).toBe(false);
    release('victim');
    expect(await victim.answer).toMatchObject({ id: 1, result: { content: [{ text: 'answer for victim' }] } });
    await server.close();
  });

  it('answers requests still waiting when the server closes, under the client id', async () => {
    const { server, started } = gatedServer();
    const mux = new RequestMultiplexer();
    await server.connect(mux);
    const waiting = mux.request(call('w', 'waiting'), extraOf('alice'));
    await until(() => started('waiting'));
    await server.close();
    expect(await waiting.answer).toMatchObject({ jsonrpc: '2.0', id: 'w', error: { code: ErrorCode.ConnectionClosed } });
  });
});
