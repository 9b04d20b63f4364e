import { describe, expect, it } from '@jest/globals';
import { AppError } from '@nessus-mcp/core';
import type { OwnScan, ScanStatus } from '@nessus-mcp/scanners';
import { cleanNessusScans } from '../src/housekeeping/clean-nessus-scans.js';
import type { HousekeepingDeps } from '../src/housekeeping/housekeeping-deps.js';

/** A scanner whose one own scan looked finished when listed but answers as given afterwards. */
function fleetWith(scan: OwnScan, deleteError: AppError | null, statusAfter: Pick<ScanStatus, 'state' | 'rawStatus'>) {
  const calls: string[] = [];
  const scanner = {
    listOwnScans: async () => [scan],
    deleteScan: async (id: string) => {
      calls.push(`delete ${id}`);
      if (deleteError) throw deleteError;
    },
    stopScan: async (id: string) => {
      calls.push(`stop ${id}`);
    },
    getStatus: async (id: string) => {
      calls.push(`status ${id}`);
      return { ...statusAfter, progress: 50 };
    },
  };
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
  const deps = {
    tasks: { get: async () => null },
    registry: () => ({ instances: () => [{ enabled: true, poolName: 'nessus', instanceId: 'scanner1' }], getScanner: () => scanner }),
    logger: { ...silent, child: () => silent },
  } as unknown as HousekeepingDeps;
  return { deps, calls };
}

const finished: OwnScan = {
  scanId: '41',
  taskId: 'ne_scan_20260101_000000_0badf00d',
  name: '[nmcp:ne_scan_20260101_000000_0badf00d] x',
  rawStatus: 'completed',
  lastModified: 0,
};
// Real Nessus refuses to delete an active scan with 500 (not 409).
const activeRefusal = new AppError('scanner_error', 'Nessus answered 500: Failed to delete the scan. This may be because the scan is currently running', {
  details: { status: 500 },
});

describe('housekeeping: deleting finished scans on Nessus', () => {
  it('stops a scan whose delete answered 500 because it was running again, and deletes it on a later run', async () => {
    const { deps, calls } = fleetWith(finished, activeRefusal, { state: 'running', rawStatus: 'running' });
    await expect(cleanNessusScans(deps)).resolves.toEqual({ deleted: 0, stopped: 1, held: 0, errors: 0 });
    expect(calls).toEqual(['delete 41', 'status 41', 'stop 41']);
  });

  it('counts a 500 on delete of a scan that is not active as an error, without stopping anything', async () => {
    const { deps, calls } = fleetWith(finished, activeRefusal, { state: 'completed', rawStatus: 'completed' });
    await expect(cleanNessusScans(deps)).resolves.toEqual({ deleted: 0, stopped: 0, held: 0, errors: 1 });
    expect(calls).toEqual(['delete 41', 'status 41']);
  });

  it('deletes a finished scan outright when Nessus accepts', async () => {
    const { deps, calls } = fleetWith(finished, null, { state: 'completed', rawStatus: 'completed' });
    await expect(cleanNessusScans(deps)).resolves.toEqual({ deleted: 1, stopped: 0, held: 0, errors: 0 });
    expect(calls).toEqual(['delete 41']);
  });
});
