import { describe, expect, it } from '@jest/globals';
import { AppError, toAppError, HTTP_STATUS } from '../src/errors.js';

describe('AppError', () => {
  it('serialises to the contract body with code, message and details', () => {
    const err = new AppError('invalid_argument', "targets: '10.0.0.0/8' is larger than the allowed /16", { details: { field: 'targets' } });
    expect(err.toBody()).toEqual({ error: { code: 'invalid_argument', message: "targets: '10.0.0.0/8' is larger than the allowed /16", details: { field: 'targets' } } });
    expect(err.httpStatus).toBe(400);
  });

  it('hides the text of unknown errors behind a generic internal error', () => {
    const wrapped = toAppError(new Error('ECONNREFUSED 10.1.2.3:6379 password=hunter2'));
    expect(wrapped.code).toBe('internal');
    expect(wrapped.message).not.toContain('hunter2');
    expect(HTTP_STATUS.not_found).toBe(404);
  });
});
