import { describe, expect, it } from '@jest/globals';
import { ManagedProcess, describeExit, type ExitInfo } from '../src/process-group.js';

const node = process.execPath;

function spec(name: string, source: string): ConstructorParameters<typeof ManagedProcess>[0] {
  return { name, command: node, args: ['-e', source], env: process.env, cwd: process.cwd() };
}

describe('ManagedProcess', () => {
  it('reports an unexpected death with the exit code and the last stderr lines', async () => {
    const child = new ManagedProcess(spec('worker', "console.error('cannot connect to Redis'); process.exit(3)"));
    const reported = new Promise<{ info: ExitInfo; tail: string[] }>((resolve) => child.start((info, tail) => resolve({ info, tail })));
    const { info, tail } = await reported;
    expect(info).toEqual({ name: 'worker', code: 3, signal: null });
    expect(describeExit(info)).toBe('exited with code 3');
    expect(tail.join('\n')).toContain('cannot connect to Redis');
  });

  it('stops a child that ignores SIGTERM with SIGKILL after the grace period, without reporting it as unexpected', async () => {
    const child = new ManagedProcess(spec('stubborn', "process.on('SIGTERM', () => {}); console.error('up'); setInterval(() => {}, 1000)"));
    let unexpected = false;
    const up = new Promise<void>((resolve) => {
      child.start(() => {
        unexpected = true;
      });
      const poll = setInterval(() => {
        if (child.pid) {
          clearInterval(poll);
          setTimeout(resolve, 300);
        }
      }, 20);
    });
    await up;
    const info = await child.stop(300);
    expect(info?.signal).toBe('SIGKILL');
    expect(unexpected).toBe(false);
  });

  it('lets a supervised child notice that the supervisor is gone (stdin closes)', async () => {
    const source = "process.stdin.on('end', () => { console.error('supervisor gone'); process.exit(0) }); process.stdin.resume()";
    const child = new ManagedProcess(spec('gateway', source));
    const reported = new Promise<{ info: ExitInfo; tail: string[] }>((resolve) => child.start((info, tail) => resolve({ info, tail })));
    // Closing our end of the pipe is what the kernel does when the supervisor dies.
    (child as unknown as { child: { stdin: NodeJS.WritableStream } }).child.stdin.end();
    const { info, tail } = await reported;
    expect(info.code).toBe(0);
    expect(tail).toContain('supervisor gone');
  });
});
