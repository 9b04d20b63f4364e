import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultPatch, Faults } from './faults.js';
import { FaultValidationError, validateFaultPatch } from './faults.js';
import { parseJsonBody, readBody, sendError, sendJson } from './http-replies.js';
import type { RunsReport } from './simulator-state.js';
import type { SimStats } from './stats.js';

export interface ControlSurface {
  stats(): SimStats;
  runs(): RunsReport;
  faults(): Faults;
  setFaults(patch: FaultPatch): void;
  reset(): void;
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address?.startsWith('::ffff:127.') === true || address?.startsWith('127.') === true;
}

/**
 * `/_sim/*` (docs/simulator.md, "Control surface"): no auth, so it answers loopback clients only,
 * even when the API itself is bound to another interface.
 */
export async function handleControl(req: IncomingMessage, res: ServerResponse, path: string, control: ControlSurface): Promise<void> {
  const raw = await readBody(req);
  if (!isLoopback(req.socket.remoteAddress)) {
    sendError(res, 403, 'The simulator control surface only answers loopback clients');
    return;
  }
  const route = path.replace(/\/+$/, '');
  const allow = (methods: string): void => {
    res.setHeader('Allow', methods);
    sendError(res, 405, 'The requested method is not allowed for this URL');
  };
  if (route === '/_sim/stats') {
    if (req.method !== 'GET') return allow('GET');
    return sendJson(res, 200, control.stats());
  }
  if (route === '/_sim/runs') {
    if (req.method !== 'GET') return allow('GET');
    return sendJson(res, 200, control.runs());
  }
  if (route === '/_sim/faults') {
    if (req.method === 'GET') return sendJson(res, 200, control.faults());
    if (req.method !== 'PUT') return allow('GET, PUT');
    let patch: FaultPatch;
    try {
      patch = validateFaultPatch(parseJsonBody(raw) ?? null);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return sendError(res, 400, error instanceof FaultValidationError ? message : `invalid faults body: ${message}`);
    }
    control.setFaults(patch);
    return sendJson(res, 200, control.faults());
  }
  if (route === '/_sim/reset') {
    if (req.method !== 'POST') return allow('POST');
    control.reset();
    return sendJson(res, 200, { reset: true, faults: control.faults() });
  }
  sendError(res, 404, `Unknown control endpoint ${route}; use /_sim/stats, /_sim/runs, /_sim/faults or /_sim/reset`);
}
