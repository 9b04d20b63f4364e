import type { z } from 'zod';
import { AppError } from './errors.js';

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
};
const RECEIVED: Record<string, string> = { number: 'a number', string: 'a string', boolean: 'a boolean', array: 'a list', object: 'an object', null: 'null' };

/**
 * Shape errors become one `invalid_argument` whose message names each field, identical whether
 * the MCP tool, its REST twin or the credentials schema found them. Issue messages never carry
 * the input value, so a rejected secret is not echoed.
 */
export function zodIssuesToError(issues: readonly z.core.$ZodIssue[]): AppError {
  const problems = issues.map((issue) => {
    let field = issue.path.map(String).join('.');
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      message = `unknown parameter(s) ${issue.keys.map((key) => `'${key}'`).join(', ')}`;
    } else if (issue.code === 'invalid_type') {
      // zod reports a missing value and a wrong-typed one alike (inputs are not kept in issues):
      // its message ends with what it received, `undefined` when the field was absent.
      const received = /received (\w+)$/.exec(issue.message)?.[1];
      message =
        received === undefined || received === 'undefined'
          ? 'is required'
          : `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${RECEIVED[received] ?? received}`;
    }
    if (field === '') field = 'arguments';
    return { field, message };
  });
  const text = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  return new AppError('invalid_argument', text, { details: { problems } });
}
