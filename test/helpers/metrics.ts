import assert from 'node:assert/strict';
import { runInNamespace } from '../../src/lab/exec';
import { waitUntil } from '../../src/lab/wait';

/** The port tests give `--metrics-listen 127.0.0.1:PORT`; each lab has its own namespace, so one port serves all. */
export const METRICS_PORT = 9464;

/** Reads one series of a scrape by its full name, labels included; fails the test if it is missing. */
export type Series = (series: string) => number;

/** The series name of the ignored counter for `reason` (src/io/metrics-server.ts). */
export function ignoredSeries(reason: string): string {
  return `ndp_responder_solicitations_ignored_total{reason="${reason}"}`;
}

/** Scrape /metrics from inside `namespace`, where the daemon listens on 127.0.0.1:`port`. */
export async function scrapeMetrics(namespace: string, port = METRICS_PORT): Promise<Series> {
  const script = `fetch('http://127.0.0.1:${port}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`;
  const { stdout } = await runInNamespace(namespace, process.execPath, ['-e', script]);
  return (series) => {
    const line = stdout.split('\n').find((l) => l.startsWith(`${series} `));
    assert.ok(line !== undefined, `series ${series} in the scrape`);
    return Number(line.slice(series.length + 1));
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
 * NAs the responder sent, by whichever path answered: the socket path's
 * `advertisements_sent_total` plus the kernel's `fast_path_answered_total`. With
 * {@link receivedTotal}, the one place tests read these families for a count that must hold
 * on every path, so a change to the families (labels) is made here only.
 */
export function answeredTotal(metric: Series): number {
  return metric('ndp_responder_advertisements_sent_total') + metric('ndp_responder_fast_path_answered_total');
}

/**
 * NS the responder took: those past the socket's kernel filter (`solicitations_received_total`)
 * plus those answered in the kernel, which never reach the socket.
 */
export function receivedTotal(metric: Series): number {
  return metric('ndp_responder_solicitations_received_total') + metric('ndp_responder_fast_path_answered_total');
}
