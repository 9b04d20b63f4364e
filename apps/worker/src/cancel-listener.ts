import { isValidTaskId, type Logger, type RedisClient } from '@nessus-mcp/core';

export interface CancelListener {
  close(): Promise<void>;
}

/**
 * Subscribes to the cancel channel the gateway publishes task ids on. `worker.cancelJob` only
 * reaches the process holding a job, so every worker process listens and `onCancel` aborts the
 * job if this process holds it (or wakes it if it sleeps in the delayed set).
 */
export async function startCancelListener(options: {
  subscriber: RedisClient;
  channel: string;
  logger: Logger;
  onCancel: (taskId: string) => Promise<void>;
}): Promise<CancelListener> {
  const { subscriber, channel, logger } = options;
  subscriber.on('message', (from: string, message: string) => {
    if (from !== channel) return;
    if (!isValidTaskId(message)) {
      logger.warn({ channel }, 'ignoring a cancel message that is not a task id');
      return;
    }
    options
      .onCancel(message)
      .catch((error: unknown) => logger.error({ task_id: message, err: error instanceof Error ? error.message : String(error) }, 'cancel handling failed'));
  });
  await subscriber.subscribe(channel);
  return {
    close: async () => {
      await subscriber.unsubscribe(channel).catch(() => undefined);
      subscriber.disconnect();
    },
  };
}
