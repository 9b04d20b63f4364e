import { describe, expect, it } from '@jest/globals';
import { DEFAULT_FAULTS, validateFaultPatch } from '../src/faults.js';

describe('validateFaultPatch', () => {
  it('accepts every contract key with a valid value', () => {
    const patch = {
      licence_412: 'drop',
      error_rate: 0.25,
      latency_ms: 50,
      session_ttl_s: 2,
      export_mode: 'stuck',
      scan_outcome: 'aborted',
      scan_seconds: 0.5,
      download_mode: 'truncated',
    };
    expect(validateFaultPatch(patch)).toEqual(patch);
    expect(validateFaultPatch({ licence_412: null, session_ttl_s: null })).toEqual({ licence_412: null, session_ttl_s: null });
  });

  it('names the unknown key and lists the known ones', () => {
    expect(() => validateFaultPatch({ licence: 'drop' })).toThrow(/unknown fault key 'licence'; known keys: licence_412, error_rate/);
  });

  it('explains bad values', () => {
    expect(() => validateFaultPatch({ licence_412: 'sometimes' })).toThrow('licence_412 must be one of "clean", "drop", "empty"');
    expect(() => validateFaultPatch({ error_rate: 1.5 })).toThrow('error_rate must be between 0 and 1');
    expect(() => validateFaultPatch({ latency_ms: '10' })).toThrow('latency_ms must be between 0 and 600000');
    expect(() => validateFaultPatch({ scan_seconds: -1 })).toThrow('scan_seconds');
    expect(() => validateFaultPatch([])).toThrow('JSON object');
  });

  it('defaults to a healthy licensed server with 5-second scans', () => {
    expect(DEFAULT_FAULTS).toMatchObject({ licence_412: null, error_rate: 0, export_mode: 'ok', scan_seconds: 5 });
  });
});
