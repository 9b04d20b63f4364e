import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { AuditLog } from '@nessus-mcp/core';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { RequiredScope } from '../auth/principal.js';
import type { ScanQueues } from '../services/service-context.js';
import { BULL_BOARD_CSP, browserHeaders } from './browser-headers.js';

export const BULL_BOARD_PATH = '/admin/queues';

export interface BullBoardHandle {
  /** Re-reads the queue list (a reloaded scanners.yaml may add pools). */
  refresh(): void;
}

/**
 * Looking is reading; every other method (retry, clean, promote, update-data, pause, ...) changes
 * jobs. Job data is what the worker acts on, so editing it is an admin action.
 */
export function bullBoardScope(request: FastifyRequest): RequiredScope {
  return request.method === 'GET' || request.method === 'HEAD' ? 'nessus:read' : 'nessus:admin';
}

/**
 * Bull Board for every scan queue and the housekeeping queue, in its own scope so its auth hook
 * (bearer, or Basic for browsers) guards exactly its routes. Job data shown there holds only the
 * encrypted credential envelope: the service layer encrypts before enqueueing.
 */
export const bullBoardPlugin: FastifyPluginAsync<{ queues: ScanQueues; onReady: (handle: BullBoardHandle) => void; audit: AuditLog }> = async (
  app,
  options,
) => {
  const adapters = () => [
    ...options.queues.scanQueues().map(({ queue }) => new BullMQAdapter(queue, { readOnlyMode: false })),
    new BullMQAdapter(options.queues.housekeeping),
  ];
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  const board = createBullBoard({ queues: adapters(), serverAdapter, options: { uiConfig: { boardTitle: 'nessus-mcp queues' } } });
  options.onReady({ refresh: () => board.replaceQueues(adapters()) });
  app.addHook('onRequest', app.requireAuth({ allowBasic: true, scope: bullBoardScope }));
  app.addHook('onSend', browserHeaders(BULL_BOARD_CSP));
  app.addHook('onResponse', async (request, reply) => {
    if (bullBoardScope(request) !== 'nessus:admin' || !request.principal) return;
    const path = request.url.split('?')[0] ?? '';
    const taskId = /\/api\/queues\/[^/]+\/([^/]+)\//.exec(path)?.[1] ?? null;
    await options.audit
      .record({
        client: request.principal.name,
        action: 'admin.queue',
        task_id: taskId,
        targets: null,
        outcome: reply.statusCode < 400 ? 'ok' : `http_${reply.statusCode}`,
        detail: `${request.method} ${path}`,
      })
      .catch((error: unknown) => request.log.warn({ err: String(error) }, 'audit record not written'));
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
};
