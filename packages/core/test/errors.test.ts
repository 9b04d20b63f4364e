import { describe, expect, it } from '@jest/globals';
import { AppError, HTTP_STATUS, isStorageFailure, storageFailure, toAppError } from '../src/errors.js';

describe('AppError', () => {
  it('serialises to the contract body with code, message and details', () => {
    const err = new AppError('invalid_argument', "targets: '10.0.0.0/8' is larger than the allowed /16", { details: { field: 'targets' } });
    expect(err.toBody()).toEqual({
      error: { code: 'invalid_argument', message: "targets: '10.0.0.0/8' is larger than the allowed /16", details: { field: 'targets' } },
    });
    expect(err.httpStatus).toBe(400);
  });

  it('hides the text of unknown errors behind a generic internal error', () => {
    const wrapped = toAppError(new Error('ECONNREFUSED 10.1.2.3:6379 password=hunter2'));
    expect(wrapped.code).toBe('internal');
    expect(wrapped.message).not.toContain('hunter2');
    expect(HTTP_STATUS.not_found).toBe(404);
  });
});

describe('storage failures', () => {
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write', errno: -28 });

  it('recognises file-system errors by code and syscall, not network or plain errors', () => {
    expect(isStorageFailure(enospc)).toBe(true);
    expect(isStorageFailure(Object.assign(new Error('read-only'), { code: 'EROFS', syscall: 'open' }))).toBe(true);
    expect(isStorageFailure(Object.assign(new Error('reset'), { code: 'ECONNRESET', syscall: 'read' }))).toBe(false);
    expect(isStorageFailure(Object.assign(new Error('no syscall'), { code: 'ENOSPC' }))).toBe(false);
    expect(isStorageFailure('ENOSPC')).toBe(false);
  });

  it('says a full disk is full, names DATA_DIR and the fix, and allows a retry', () => {
    const error = storageFailure(enospc, 'write the scan results');
    expect(error.code).toBe('internal');
    expect(error.message).toMatch(/could not write the scan results under its data directory \(DATA_DIR\): no space left on the disk \(ENOSPC\)/);
    expect(error.message).toMatch(/Free disk space/);
    expect(error.retryable).toBe(true);
    expect(error.details).toEqual({ cause_code: 'ENOSPC', syscall: 'write' });
  });

  it('does not retry a read-only data directory', () => {
    const error = storageFailure(Object.assign(new Error('EROFS'), { code: 'EROFS', syscall: 'open' }), 'save the export');
    expect(error.message).toContain('read-only');
    expect(error.retryable).toBe(false);
  });
});
