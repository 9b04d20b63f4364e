/** The terminal side of a hidden prompt (process.stdin / process.stderr satisfy it). */
export interface PromptInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface PromptOutput {
  write(chunk: string): boolean;
}

export class PromptCancelled extends Error {
  constructor() {
    super('prompt cancelled');
    this.name = 'PromptCancelled';
  }
}

/**
 * Reads a secret from the terminal without echoing it. The prompt goes to stderr so that
 * `nessus-mcp scan ... --json > out.json` still shows it. Rejects with `PromptCancelled` on Ctrl-C
 * or Ctrl-D, and refuses outright when stdin is not a terminal (nothing could be typed).
 */
export function promptHidden(question: string, input: PromptInput = process.stdin, output: PromptOutput = process.stderr): Promise<string> {
  if (!input.isTTY || typeof input.setRawMode !== 'function') {
    return Promise.reject(new Error('cannot prompt for a password: stdin is not a terminal'));
  }
  const setRawMode = input.setRawMode.bind(input);
  output.write(question);
  setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  return new Promise<string>((resolve, reject) => {
    let value = '';
    const finish = (error: Error | null): void => {
      input.removeListener('data', onData);
      setRawMode(false);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string | Buffer): void => {
      for (const char of String(chunk)) {
        if (char === '\r' || char === '\n') return finish(null);
        if (char === '\u0003' || char === '\u0004') return finish(new PromptCancelled());
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else if (char >= ' ') value += char;
      }
    };
    input.on('data', onData);
  });
}
