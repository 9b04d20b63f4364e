/**
 * Under `npm start` each process gets a stdin pipe from the supervisor. If the supervisor dies,
 * even by SIGKILL, the pipe closes: treat that as SIGTERM so no child is left orphaned.
 * Does nothing when the process runs on its own (systemd, Kubernetes, a terminal).
 */
export function exitWithSupervisor(onGone: () => void = () => process.kill(process.pid, 'SIGTERM')): void {
  if (process.env.NESSUS_MCP_SUPERVISED !== '1') return;
  process.stdin.on('end', onGone);
  process.stdin.on('error', onGone);
  process.stdin.resume();
}
