import assert from 'node:assert/strict';
import { runInNamespace } from '../../src/lab/exec';
import { waitUntil } from '../../src/lab/wait';
import { seriesValue } from './prometheus';

/** The port tests give `--metrics-listen 127.0.0.1:PORT`; each lab has its own namespace, so one port serves all. */
export const METRICS_PORT = 9464;

/**
 * Reads a scrape: a family's total, or the sum of its series with the given labels (see
 * prometheus.ts seriesValue); fails the test if no series matches.
 */
export type Series = (series: string) => number;

/** The ignored counter for `reason` (src/io/metrics-server.ts), over both answer paths unless `path` says which. */
export function ignoredSeries(reason: string, path?: 'socket' | 'bpf'): string {
  return `ndp_responder_solicitations_ignored_total{reason="${reason}"${path === undefined ? '' : `,path="${path}"`}}`;
}

/** Scrape /metrics from inside `namespace`, where the daemon listens on 127.0.0.1:`port`. */
export async function scrapeMetrics(namespace: string, port = METRICS_PORT): Promise<Series> {
  const script = `fetch('http://127.0.0.1:${port}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`;
  const { stdout } = await runInNamespace(namespace, process.execPath, ['-e', script]);
  return (series) => {
    const value = seriesValue(stdout, series);
    assert.ok(value !== undefined, `series ${series} in the scrape`);
    return value;
  };
}

/** Scrape until `ready` holds for the scrape, and return that scrape (no fixed sleeps). */
export function waitForMetrics(namespace: string, ready: (metric: Series) => boolean, description: string, timeoutMs = 3000): Promise<Series> {
  return waitUntil(
    async () => {
      const metric = await scrapeMetrics(namespace);
      return ready(metric) ? metric : undefined;
    },
    { timeoutMs, description },
  );
}

/**
 * NAs the responder sent, by whichever path answered: `advertisements_sent_total` summed over
 * its `path` label (socket and bpf). With {@link receivedTotal}, the one place tests read these
 * families for a count that must hold on every path.
 */
export function answeredTotal(metric: Series): number {
  return metric('ndp_responder_advertisements_sent_total');
}

/**
 * NS the responder took, by either path: past the socket's kernel filter, or answered or
 * limited in the kernel (a frame the kernel passes on is counted by the socket path only).
 */
export function receivedTotal(metric: Series): number {
  return metric('ndp_responder_solicitations_received_total');
}
