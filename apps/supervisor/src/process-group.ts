import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '@nessus-mcp/core';

export interface ManagedProcessSpec {
  /** Shown in messages: `gateway`, `worker`, `simulator`. */
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface ExitInfo {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A child process the supervisor owns. Its stdout/stderr pass through; the last lines of stderr
 * are kept so that when it dies the supervisor can say why. Children get a stdin pipe: when the
 * supervisor dies (even by SIGKILL) the pipe closes and the child exits instead of lingering.
 */
export class ManagedProcess {
  readonly spec: ManagedProcessSpec;
  private child: ChildProcess | null = null;
  private tail: string[] = [];
  private stopping = false;
  private exitPromise: Promise<ExitInfo> | null = null;

  constructor(spec: ManagedProcessSpec) {
    this.spec = spec;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  start(onUnexpectedExit: (info: ExitInfo, tail: string[]) => void): void {
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: { ...this.spec.env, NESSUS_MCP_SUPERVISED: '1' },
      stdio: ['pipe', 'inherit', 'pipe'],
      // Own process group: a terminal Ctrl-C reaches the supervisor only, which then stops the
      // children in order (Redis last).
      detached: true,
    });
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      const lines = chunk.toString('utf8').split('\n').filter(Boolean);
      this.tail = [...this.tail, ...lines].slice(-8);
    });
    this.exitPromise = new Promise((resolve) => {
      child.once('error', (error) => {
        this.tail.push(String(error));
        resolve({ name: this.spec.name, code: null, signal: null });
      });
      child.once('exit', (code, signal) => {
        const info = { name: this.spec.name, code, signal };
        if (!this.stopping) onUnexpectedExit(info, this.tail);
        resolve(info);
      });
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<ExitInfo | null> {
    if (!this.child || !this.exitPromise) return null;
    this.stopping = true;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const info = await this.exitPromise;
    clearTimeout(timer);
    return info;
  }
}

export function describeExit(info: ExitInfo): string {
  if (info.signal) return `was killed by ${info.signal}`;
  if (info.code === null) return 'could not be started';
  return `exited with code ${info.code}`;
}

export type { Logger };
