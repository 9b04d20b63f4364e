import { describe, expect, it } from '@jest/globals';
import { Counter, Histogram, Registry } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from '../src/http/series-metrics.js';

const BUCKETS = [0.005, 0.01, 0.1, 1];
// Every bucket, both edges of one, past the last bound, and one label set seen once.
const OBSERVATIONS: [Record<'method' | 'route', string>, number][] = [
  [{ method: 'POST', route: '/mcp' }, 0.001],
  [{ method: 'POST', route: '/mcp' }, 0.005],
  [{ method: 'POST', route: '/mcp' }, 0.0051],
  [{ method: 'POST', route: '/mcp' }, 0.5],
  [{ method: 'POST', route: '/mcp' }, 7],
  [{ method: 'GET', route: '/api/v1/tasks/:task_id' }, 0.02],
];

function both(): {
  ours: Registry;
  theirs: Registry;
  counter: [SeriesCounter<'method' | 'route' | 'status'>, Counter];
  histogram: [SeriesHistogram<'method' | 'route'>, Histogram];
} {
  const ours = new Registry();
  const theirs = new Registry();
  const labelNames = ['method', 'route', 'status'] as const;
  return {
    ours,
    theirs,
    counter: [
      new SeriesCounter('requests_total', 'Requests', labelNames).registerIn(ours),
      new Counter({ name: 'requests_total', help: 'Requests', labelNames, registers: [theirs] }),
    ],
    histogram: [
      new SeriesHistogram('duration_seconds', 'Latency', ['method', 'route'] as const, BUCKETS).registerIn(ours),
      new Histogram({ name: 'duration_seconds', help: 'Latency', labelNames: ['method', 'route'], buckets: BUCKETS, registers: [theirs] }),
    ],
  };
}

describe('series metrics', () => {
  it('expose exactly what prom-client exposes for the same observations', async () => {
    const { ours, theirs, counter, histogram } = both();
    for (const [labels, seconds] of OBSERVATIONS) {
      const status = seconds > 1 ? '500' : '200';
      for (const metric of counter) metric.inc({ ...labels, status });
      for (const metric of histogram) metric.observe(labels, seconds);
    }
    counter[0].inc({ method: 'GET', route: '/health', status: '200' }, 3);
    counter[1].inc({ method: 'GET', route: '/health', status: '200' }, 3);
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('duration_seconds_bucket{le="0.005",method="POST",route="/mcp"} 2');
    expect(text).toContain('duration_seconds_bucket{le="+Inf",method="POST",route="/mcp"} 5');
    expect(text).toContain('requests_total{method="GET",route="/health",status="200"} 3');
  });

  it('start again from nothing when the registry resets them', async () => {
    const { ours, theirs, counter, histogram } = both();
    for (const metric of histogram) metric.observe({ method: 'POST', route: '/mcp' }, 0.2);
    for (const metric of counter) metric.inc({ method: 'POST', route: '/mcp', status: '200' });
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).not.toContain('/mcp');
  });
});
