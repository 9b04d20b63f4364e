import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  isJSONRPCErrorResponse,
  isJSONRPCResultResponse,
  type JSONRPCErrorResponse,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type JSONRPCResultResponse,
  type MessageExtraInfo,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';

/** The answer to one client request, under the id the client gave it. */
export type JsonRpcAnswer = JSONRPCResultResponse | JSONRPCErrorResponse;

/** One client request handed to the server: its answer, and a way to give up on it. */
export interface Exchange {
  readonly answer: Promise<JsonRpcAnswer>;
  /** The client went away: the server is told the request is cancelled and its answer is dropped. */
  abandon(): void;
}

interface Pending {
  clientId: RequestId;
  resolve: (answer: JsonRpcAnswer) => void;
}

/**
 * The transport of one MCP server that answers every stateless HTTP request, in place of a
 * server and a Streamable HTTP transport per request (the SDK's stateless pattern, whose
 * conversion of each Node request and response to Web ones cost more CPU than a status call's
 * own work).
 *
 * Each client request enters the server under an id of this transport's own, so two clients'
 * requests with the same JSON-RPC id never meet in the server's bookkeeping, and the answer
 * leaves under the client's id again. What a request carries of its caller (the principal, the
 * protocol version) rides in the message's `extra`, as before: the server keeps nothing of one
 * caller for the next. (The SDK does keep the last `initialize`'s client capabilities and name on
 * the server; no handler here reads them.)
 *
 * What a stateless JSON-response exchange has no channel for is dropped, as the SDK's transport
 * drops it in that mode: notifications the server sends (progress, logging) and requests it
 * would send to a client. Client notifications are passed on except `notifications/cancelled`,
 * whose request id names a request of the client's own numbering that this server does not
 * know (a cancel arrives on its own HTTP request, after the one it cancels has its own id here).
 */
export class RequestMultiplexer implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  async start(): Promise<void> {}

  /** Requests still waiting are answered with an error: the server is going away. */
  async close(): Promise<void> {
    for (const [, { clientId, resolve }] of this.pending) {
      resolve({ jsonrpc: '2.0', id: clientId, error: { code: ErrorCode.ConnectionClosed, message: 'The MCP server is shutting down; retry the request.' } });
    }
    this.pending.clear();
    this.onclose?.();
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (!isJSONRPCResultResponse(message) && !isJSONRPCErrorResponse(message)) return;
    const id = message.id as number;
    const waiting = this.pending.get(id);
    if (waiting === undefined) return; // abandoned
    this.pending.delete(id);
    waiting.resolve({ ...message, id: waiting.clientId });
  }

  request(message: JSONRPCRequest, extra: MessageExtraInfo): Exchange {
    const id = ++this.nextId;
    const answer = new Promise<JsonRpcAnswer>((resolve) => this.pending.set(id, { clientId: message.id, resolve }));
    this.deliver({ ...message, id }, extra);
    return {
      answer,
      abandon: () => {
        if (!this.pending.delete(id)) return;
        this.deliver({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'the HTTP request was closed' } }, extra);
      },
    };
  }

  /** A client notification (or a response to a request this server never sends): nothing is answered. */
  notify(message: JSONRPCNotification, extra: MessageExtraInfo): void {
    if (message.method === 'notifications/cancelled') return;
    this.deliver(message, extra);
  }

  private deliver(message: JSONRPCMessage, extra: MessageExtraInfo): void {
    if (!this.onmessage) throw new Error('the MCP server is not connected to its transport');
    this.onmessage(message, extra);
  }
}
