import type { z } from 'zod';
import { AppError } from './errors.js';

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
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      message = 'is required';
    }
    if (field === '') field = 'arguments';
    return { field, message };
  });
  const text = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  return new AppError('invalid_argument', text, { details: { problems } });
}
