import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyPluginAsync } from 'fastify';
import type { ScanQueues } from '../services/service-context.js';

export const BULL_BOARD_PATH = '/admin/queues';

export interface BullBoardHandle {
  /** Re-reads the queue list (a reloaded scanners.yaml may add pools). */
  refresh(): void;
}

/**
 * Bull Board for every scan queue and the housekeeping queue, in its own scope so its auth hook
 * (bearer, or Basic for browsers) guards exactly its routes. Job data shown there holds only the
 * encrypted credential envelope: the service layer encrypts before enqueueing.
 */
export const bullBoardPlugin: FastifyPluginAsync<{ queues: ScanQueues; onReady: (handle: BullBoardHandle) => void }> = async (app, options) => {
  const adapters = () => [...options.queues.scanQueues().map(({ queue }) => new BullMQAdapter(queue, { readOnlyMode: false })), new BullMQAdapter(options.queues.housekeeping)];
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  const board = createBullBoard({ queues: adapters(), serverAdapter, options: { uiConfig: { boardTitle: 'nessus-mcp queues' } } });
  options.onReady({ refresh: () => board.replaceQueues(adapters()) });
  app.addHook('onRequest', app.requireAuth({ allowBasic: true }));
  await app.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
};
