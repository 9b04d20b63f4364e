import { describe, expect, it } from '@jest/globals';
import { ASSUMED_SCAN_SECONDS, estimateWait } from '../src/services/queue-estimate.js';

const instance = (active: number, capacity: number, enabled = true) => ({ poolName: 'p', instanceId: `i${active}${capacity}`, name: 'i', enabled, active, capacity });

describe('estimateWait', () => {
  it('is zero while free slots remain', () => {
    expect(estimateWait(2, [instance(1, 4)], [600]).estimated_wait_minutes).toBe(0);
  });

  it('counts full waves of the pool capacity at the average recent duration', () => {
    // 4 slots all busy, 20-minute scans: positions 1-4 wait one wave, 5-8 two.
    const load = [instance(2, 2), instance(2, 2)];
    expect(estimateWait(1, load, [1200, 1200]).estimated_wait_minutes).toBe(20);
    expect(estimateWait(5, load, [600, 1800]).estimated_wait_minutes).toBe(40);
  });

  it('ignores disabled instances and says when there is no capacity at all', () => {
    expect(estimateWait(1, [instance(0, 4, false)], [600])).toMatchObject({ estimated_wait_minutes: null, basis: 'no enabled scanner instance in this pool' });
  });

  it('states its assumption before any scan of the pool finished', () => {
    const estimate = estimateWait(3, [instance(1, 1)], []);
    expect(estimate.estimated_wait_minutes).toBe((3 * ASSUMED_SCAN_SECONDS) / 60);
    expect(estimate.basis).toContain('no finished scan in this pool yet');
  });
});
