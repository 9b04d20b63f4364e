#!/usr/bin/env node
import { CLI_USAGE, CliError, parseCliOptions } from './cli-options.js';
import { startSimulators } from './server.js';

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseCliOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`nessus-sim: ${error.message}\n\n${CLI_USAGE}`);
      process.exit(2);
    }
    throw error;
  }
  if (parsed.help) {
    process.stdout.write(CLI_USAGE);
    return;
  }
  const simulators = await startSimulators(parsed.instances ?? 1, parsed.options);
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    process.stderr.write(`nessus-sim: ${signal} received, closing\n`);
    Promise.all(simulators.map((simulator) => simulator.close())).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`nessus-sim: close failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  // Under `npm start` the supervisor holds our stdin: it closes when the supervisor dies, even by SIGKILL.
  if (process.env.NESSUS_MCP_SUPERVISED === '1') {
    process.stdin.on('end', () => shutdown('supervisor gone'));
    process.stdin.resume();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`nessus-sim: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
