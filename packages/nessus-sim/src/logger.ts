export type LogLevel = 'silent' | 'error' | 'info' | 'debug';

const RANK: Record<LogLevel, number> = { silent: 0, error: 1, info: 2, debug: 3 };

export function isLogLevel(value: string): value is LogLevel {
  return value in RANK;
}

/** One-line stderr logger: stdout stays free for whoever embeds the simulator. */
export interface Logger {
  error(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const emit = (at: Exclude<LogLevel, 'silent'>, message: string): void => {
    if (RANK[at] <= RANK[level]) write(`${new Date().toISOString()} nessus-sim ${at}: ${message}\n`);
  };
  return {
    error: (message) => emit('error', message),
    info: (message) => emit('info', message),
    debug: (message) => emit('debug', message),
  };
}
