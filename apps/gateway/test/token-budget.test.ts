import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { connectClient, startTestGateway, type TestGateway } from './support/test-gateway.js';

/**
 * What every tool costs an agent before its first call: name, description and input schema, as
 * tools/list sends them, in GPT's o200k tokens (the bench prints the same figure). Counting is
 * deterministic, so this is a plain check, not a timed one.
 */
const TOOL_LIST_BUDGET = 5000;

let gw: TestGateway;
let client: Client;

beforeAll(async () => {
  gw = await startTestGateway();
  client = await connectClient(gw.url);
});
afterAll(async () => {
  await client.close();
  await gw.close();
});

describe('the token budget', () => {
  it(`keeps name + description + input schema of every registered tool within ${TOOL_LIST_BUDGET} tokens`, async () => {
    const { tools } = await client.listTools();
    const costs = tools.map((tool) => ({
      name: tool.name,
      tokens: countTokens(tool.name) + countTokens(tool.description ?? '') + countTokens(JSON.stringify(tool.inputSchema)),
    }));
    const total = costs.reduce((sum, cost) => sum + cost.tokens, 0);
    expect(tools.length).toBeGreaterThanOrEqual(9);
    // On failure the per-tool figures say where the tokens went.
    expect({ total, within: total <= TOOL_LIST_BUDGET, costs }).toEqual({ total, within: true, costs });
  });
});
