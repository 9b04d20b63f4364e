import { describe, expect, it } from '@jest/globals';
import { AppError } from '@nessus-mcp/core';
import { classifyFailure } from '../src/scan-pipeline/scan-processor.js';

function fsError(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failed, ${syscall} '/var/lib/nessus-mcp/tasks/x/results/.tmp/findings.ndjson'`), { code, syscall });
}

describe('classifyFailure', () => {
  it('turns a full disk while writing task files into a retryable failure that says so, without the path', () => {
    const failure = classifyFailure(fsError('ENOSPC', 'write'));
    expect(failure.code).toBe('internal');
    expect(failure.retryable).toBe(true);
    expect(failure.message).toMatch(/no space left on the disk \(ENOSPC\)/);
    expect(failure.message).toContain('DATA_DIR');
    expect(failure.message).not.toContain('/var/lib');
  });

  it('does not retry a read-only data directory', () => {
    expect(classifyFailure(fsError('EROFS', 'open'))).toMatchObject({ retryable: false, message: expect.stringContaining('read-only') });
  });

  it('keeps an AppError as it is and hides the text of an unknown error', () => {
    const known = new AppError('scanner_error', 'Nessus said no', { retryable: true });
    expect(classifyFailure(known)).toBe(known);
    const unknown = classifyFailure(new Error('secret internals at 10.1.2.3'));
    expect(unknown).toMatchObject({ code: 'internal', retryable: true });
    expect(unknown.message).not.toContain('10.1.2.3');
  });
});
