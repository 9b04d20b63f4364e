import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { resultQuerySchema, resultQueryStringSchema } from '../src/params.js';

describe('parameter schemas', () => {
  it('accepts the documented get_scan_results parameters', () => {
    const parsed = resultQuerySchema.parse({
      page: 0,
      page_size: 500,
      schema_profile: 'full',
      filters: { severity: ['>=3', 0], exploit_available: true },
      sort: 'severity',
    });
    expect(parsed.page_size).toBe(500);
    expect(resultQuerySchema.parse({ filters: '{"severity":">=3"}' }).filters).toBe('{"severity":">=3"}');
  });

  it('rejects shapes no resolver could understand', () => {
    expect(resultQuerySchema.safeParse({ page: -1 }).success).toBe(false);
    expect(resultQuerySchema.safeParse({ schema_profile: 'tiny' }).success).toBe(false);
    expect(resultQuerySchema.safeParse({ sort: 'danger' }).success).toBe(false);
    expect(resultQuerySchema.safeParse({ filters: { severity: { gte: 3 } } }).success).toBe(false);
  });

  it('reads numbers, comma lists and JSON filters from a query string', () => {
    expect(resultQueryStringSchema.parse({ page: '2', page_size: '20', custom_fields: 'host, severity', filters: '{"host":"10.0.0.0/8"}' })).toEqual({
      page: 2,
      page_size: 20,
      custom_fields: ['host', 'severity'],
      filters: '{"host":"10.0.0.0/8"}',
    });
    expect(resultQueryStringSchema.safeParse({ page: 'two' }).success).toBe(false);
  });

  it('describes every parameter for LLM readers in the JSON Schema', () => {
    const jsonSchema = z.toJSONSchema(resultQuerySchema, { io: 'input' }) as { properties: Record<string, { description?: string }> };
    for (const name of ['page', 'page_size', 'schema_profile', 'custom_fields', 'filters', 'sort']) {
      expect(jsonSchema.properties[name]?.description).toEqual(expect.any(String));
    }
    expect(jsonSchema.properties.filters?.description).toContain('10.0.0.0/24');
  });
});
