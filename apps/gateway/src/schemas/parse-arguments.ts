import { zodIssuesToError } from '@nessus-mcp/core';
import type { z } from 'zod';

export function parseArguments<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw zodIssuesToError(result.error.issues);
  return result.data;
}
