import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cdfPoints, formatMicroseconds, percentile, summarizeLatency } from '../../src/loadgen/stats';
import { derivedFields, formatReport, type BenchResult } from '../../src/loadgen/report';

describe('bench statistics', () => {
  it('takes nearest-rank percentiles', () => {
    const sorted = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
    assert.deepEqual([0.5, 0.9, 0.99, 0.999, 1].map((f) => percentile(sorted, f)), [500, 900, 990, 999, 1000]);
    assert.equal(percentile([42], 0.5), 42);
    assert.equal(percentile([], 0.5), undefined);
    assert.throws(() => percentile([1], 1.5), RangeError);
  });

  it('summarises unsorted latencies: the best at the bottom, a single outlier showing only at the top', () => {
    const samples = new Float64Array(2000).fill(10);
    samples[1234] = 5000;
    samples[7] = 3;
    assert.deepEqual(summarizeLatency(samples), { count: 2000, min: 3, p50: 10, p90: 10, p99: 10, p999: 10, max: 5000 });
    assert.deepEqual(summarizeLatency(new Float64Array(0)), { count: 0 });
  });

  it('reduces a CDF to a bounded number of points ending at 1', () => {
    const sorted = Float64Array.from({ length: 10_000 }, (_, i) => i);
    const points = cdfPoints(sorted, 100);
    assert.ok(points.length <= 101);
    assert.deepEqual(points[points.length - 1], [9999, 1]);
    assert.deepEqual(cdfPoints([]), []);
  });

  it('formats latencies in the unit a person reads', () => {
    assert.deepEqual([12.34, 372_000, 1_500_000, undefined].map(formatMicroseconds), ['12.3 µs', '372.0 ms', '1.50 s', '—']);
  });

  it('derives rate and fraction, and the report says which clock measured the send', () => {
    assert.deepEqual(derivedFields(20_000, 19_990, 0.1), { achievedRate: 200_000, answeredFraction: 0.9995 });
    assert.deepEqual(derivedFields(0, 0, 0), { achievedRate: 0, answeredFraction: 0 });
    const result: BenchResult = {
      interface: 'lan0', mode: 'multicast', targets: ['2001:db8::a:71a5'], sources: 'fixed 2001:db8::1', probes: 1, offeredRate: 0,
      sent: 10, sendSeconds: 0.001, achievedRate: 10_000, answered: 5, answeredFraction: 0.5, answeredAfterWindow: 2, answersPerSecond: 3000, unmatched: 1,
      latencyUs: { count: 5, min: 12, p50: 20, p90: 30, p99: 40, p999: 40, max: 41 }, sendTimestamps: 'user', sendTimestampsMissing: 0, receiveDrops: 2, stoppedBy: 'count',
    };
    const text = formatReport(result);
    assert.match(text, /answered +5 \(50 %\), 2 after the sending window; 3000 answers\/s within it/);
    assert.match(text, /unmatched +1 NA\n/);
    assert.match(text, /min 12\.0 µs  p50 20\.0 µs .* max 41\.0 µs/);
    assert.match(text, /user space just before sendmmsg/);
    assert.match(text, /2 answers dropped by our own receive socket/);
  });
});
