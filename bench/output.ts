/** The harness's outputs: the markdown table and the SVG plot, from the JSON results. */
import { formatMicroseconds } from '../src/loadgen/stats';
import type { CaseResult, ResponderResults } from './cases';
import { KERNEL_TIME_CASE, SWEEP_RATES } from './cases';
import { perFrameMicroseconds, type CpuTimes } from './machine-cpu';
import type { RouterCaseResult } from './router-case';
import { renderCharts, type Series } from './svg';

/** The configured-targets case (ndp-responder only). */
export interface TargetsResult {
  targets: number;
  startupSeconds?: number;
  rssMiB?: number;
  p50Us?: number;
  p50SingleTargetUs?: number;
  answeredFraction?: number;
  note: string;
}

/** The whole run, as written to bench/results/<date>.json. */
export interface HarnessResults {
  date: string;
  machine: { cpus: number; kernel: string; node: string; softirqAccounting?: 'irq-time' | 'tick' };
  responders: ResponderResults[];
  skipped: string[];
  /** What a partial run (`--responders`, `--cases`) left out; absent for a full run. */
  partial?: string;
  configuredTargets?: TargetsResult;
  /** The conformant-router case, one entry per responder that ran it. */
  routerUnderFlood?: RouterCaseResult[];
}

function find(r: ResponderResults, name: string): CaseResult | undefined {
  return r.cases.find((c) => c.case === name);
}

function pct(c: CaseResult | undefined): string {
  return c === undefined ? '—' : `${+(c.result.answeredFraction * 100).toFixed(2)} %`;
}

function lat(c: CaseResult | undefined): string {
  if (c === undefined) return '—';
  const figures = `${formatMicroseconds(c.result.latencyUs.p50)} / ${formatMicroseconds(c.result.latencyUs.p99)}`;
  // Unanswered probes make the FIFO pairing of answers to probes (same target and source) credit
  // later answers to earlier probes: the percentiles are then upper bounds, not latencies.
  return c.result.answeredFraction < 0.99 ? `≤ ${figures} (${pct(c)} answered)` : figures;
}

function cpu(c: CaseResult | undefined): string {
  return c?.cpuPercent === undefined ? '—' : `${c.cpuPercent} %`;
}

/** Answers per second within the sending window (older results: answers over sending time). */
function answerRate(c: CaseResult): number {
  const r = c.result;
  return r.answersPerSecond ?? (r.sendSeconds > 0 ? r.answered / r.sendSeconds : 0);
}

/** Rate in thousands per second ("183.7k"). */
function kilo(perSecond: number): string {
  return `${Math.round(perSecond / 100) / 10}k`;
}

/** Highest answer rate over the sweep, and whether the generator (it answered all it was sent) or the responder bounds it. */
function maxAnswers(r: ResponderResults): string {
  const sweep = r.cases.filter((c) => c.case.startsWith('sweep'));
  if (sweep.length === 0) return '—';
  const best = sweep.reduce((a, b) => (answerRate(b) > answerRate(a) ? b : a));
  const bound = best.result.answeredFraction >= 0.999 ? 'generator-bound' : 'responder-bound';
  return `${kilo(answerRate(best))} (${bound}, ${kilo(best.result.achievedRate)}/s sent)`;
}

/** One sweep cell: answered fraction of what was actually sent, the sent rate, CPU. */
function sweepCell(c: CaseResult | undefined): string {
  if (c === undefined) return '—';
  const late = c.result.answeredAfterWindow ?? 0;
  return `${pct(c)} of ${kilo(c.result.achievedRate)}/s sent${late > 0 ? `, ${late} late` : ''} (${cpu(c)})`;
}

/** How many of the router's addresses resolved, and the responder's CPU meanwhile. */
function routerCell(c: RouterCaseResult | undefined): string {
  if (c === undefined) return '—';
  return `${c.reachable} / ${c.addresses} (${c.cpuPercent === undefined ? '—' : `${c.cpuPercent} %`}; flood ${kilo(c.floodRate)}/s)`;
}

/** Machine-wide CPU time in `fields` per NS sent over a case's send phase, µs. */
function perFrame(c: CaseResult | undefined, fields: readonly (keyof CpuTimes)[]): number | undefined {
  return c?.machine === undefined ? undefined : perFrameMicroseconds(c.machine, fields, c.result.sent);
}

function twoDecimals(value: number): string {
  return value.toFixed(2);
}

/**
 * CPU time per NS sent during the kernel-time flood, less the mean of the same flood with
 * nothing answering: "+1.23 (3.45 with it; 2.10 / 2.36 without)", µs per NS.
 */
export function kernelTimeCell(r: ResponderResults, fields: readonly (keyof CpuTimes)[]): string {
  const measured = perFrame(find(r, KERNEL_TIME_CASE), fields);
  if (measured === undefined) return '—';
  const without = (r.baselines ?? []).map((b) => perFrame(b, fields)).filter((v): v is number => v !== undefined);
  if (without.length === 0) return `${twoDecimals(measured)} (no baseline)`;
  const delta = measured - without.reduce((x, y) => x + y, 0) / without.length;
  return `${delta >= 0 ? '+' : '−'}${twoDecimals(Math.abs(delta))} (${twoDecimals(measured)} with it; ${without.map(twoDecimals).join(' / ')} without)`;
}

/** How this kernel accounts softirq time, for the table's notes. */
function accountingNote(accounting: 'irq-time' | 'tick' | undefined): string {
  if (accounting === 'irq-time') return 'This kernel measures softirq time at every entry and exit (CONFIG_IRQ_TIME_ACCOUNTING).';
  if (accounting === 'tick') {
    return 'This kernel samples softirq time with the scheduler tick (no CONFIG_IRQ_TIME_ACCOUNTING): statistical, and a softirq tick is also charged to the process it interrupted, so the daemon\'s CPU and the softirq difference overlap and must not be added.';
  }
  return 'How this kernel accounts softirq time is unknown (no kernel config found).';
}

/** ndp-responder's flags for its column, or "—" for the others. */
function flagsCell(r: ResponderResults): string {
  if (r.flags === undefined) return '—';
  return r.flags.length === 0 ? 'defaults' : `\`${r.flags.join(' ')}\``;
}

/** The markdown report: one column per responder. */
export function markdownTable(results: HarnessResults): string {
  const rs = results.responders;
  const row = (label: string, cell: (r: ResponderResults) => string): string => `| ${label} | ${rs.map(cell).join(' | ')} |`;
  const lines = [
    `# NDP responder benchmark, ${results.date}`,
    '',
    `${results.machine.cpus} CPUs, Linux ${results.machine.kernel}, Node ${results.machine.node}; veth lab in network namespaces; latency from kernel timestamps (send: SO_TIMESTAMPING, receive: SO_TIMESTAMPNS). CPU is the responder process's utime+stime over the send phase (% of one core; — for the kernel, which has no process). Sweep rows: 64 sources, 1 s each; the answered fraction is of the NS actually sent (\"sent\"), answers after the last send are counted as \"late\" and left out of answers/s.`,
    '',
    `ndp-responder and ndppd get the served prefix (-t SUBNET), proxy_ndp each served address. Kernel time: over the send phase of a 3 s flood of 100k NS/s from 64 sources for the served address, CPU time per NS actually sent, in µs (at 100k NS/s, 1 µs per NS is 10 % of one core), less the same flood with nothing answering, run in the same lab before the responder starts and after it stops (both shown; their spread is the noise). Softirq and sys are machine-wide (/proc/stat, all ${results.machine.cpus} CPUs: every process and softirq on the machine, the generator's own transmit included, and whatever else runs there; sys holds the daemon's own system time too). The in-kernel fast path and proxy_ndp answer in softirq (on veth, inside the generator's transmit call), which no responder process's CPU holds; the difference also holds the LAN side receiving the answers. ${accountingNote(results.machine.softirqAccounting)}`,
    '',
    ...(results.partial === undefined ? [] : [results.partial, '']),
    `| figure | ${rs.map((r) => r.responder).join(' | ')} |`,
    `|---|${rs.map(() => '---').join('|')}|`,
    row('flags beyond `run -i eth0 --via br0 -t SUBNET`', flagsCell),
    row('answer path (ndp-responder\'s `started` line)', (r) => (r.fastPath === undefined ? '—' : `\`${r.fastPath}\``)),
    row('NS→NA p50 / p99, 1 source, 500 NS/s', (r) => lat(find(r, 'latency, 1 source'))),
    row('NS→NA p50 / p99, 64 sources, 500 NS/s', (r) => lat(find(r, 'latency, 64 sources'))),
    row('NS→NA p50 / p99, idle (10 NS/s)', (r) => lat(find(r, 'latency, idle (10 NS/s)'))),
    row('NS→NA p50 / p99 under load, 10k NS/s offered', (r) => lat(find(r, 'sweep 10000'))),
    row('NS→NA p50 / p99 under load, 100k NS/s offered', (r) => lat(find(r, 'sweep 100000'))),
    ...SWEEP_RATES.map((rate) => row(`${rate / 1000}k NS/s offered: answered (CPU)`, (r) => sweepCell(find(r, `sweep ${rate}`)))),
    row('max answers/s within the sending window', maxAnswers),
    row('CPU under 100k NS/s for a foreign target', (r) => cpu(find(r, 'foreign-target flood'))),
    row('100k NS/s for 3 s (64 sources): answered (CPU)', (r) => sweepCell(find(r, KERNEL_TIME_CASE))),
    row('same flood: softirq, machine-wide, µs per NS, less nothing answering (with it; without, before / after)', (r) => kernelTimeCell(r, ['softirq'])),
    row('same flood: sys, machine-wide, µs per NS, less nothing answering (with it; without, before / after)', (r) => kernelTimeCell(r, ['system'])),
    row('answered, random-source flood (100k NS/s)', (r) => pct(find(r, 'random-source flood'))),
    row('router resolving all at once under a 100k NS/s random-source flood: REACHABLE (CPU)', (r) => routerCell(results.routerUnderFlood?.find((c) => c.responder === r.responder))),
    row('RSS before / after the floods', (r) => (r.rssBeforeMiB === undefined ? '—' : `${r.rssBeforeMiB} / ${r.rssAfterMiB ?? '—'} MiB`)),
  ];
  if (results.skipped.length > 0) lines.push('', `Skipped: ${results.skipped.join('; ')}.`);
  const t = results.configuredTargets;
  if (t !== undefined) {
    lines.push('', `## ${t.targets} configured targets (ndp-responder, socket path, limits off)`, '');
    lines.push('| start-up until the last target is answered | RSS | p50 at 50k NS/s, random targets among them | same, one target | answered |', '|---|---|---|---|---|');
    lines.push(`| ${t.startupSeconds?.toFixed(2) ?? '—'} s | ${t.rssMiB ?? '—'} MiB | ${formatMicroseconds(t.p50Us)} | ${formatMicroseconds(t.p50SingleTargetUs)} | ${t.answeredFraction === undefined ? '—' : `${+(t.answeredFraction * 100).toFixed(2)} %`} |`);
    lines.push('', t.note);
  }
  return `${lines.join('\n')}\n`;
}

/** Latency CDF (64 sources) per responder, and answered % against offered rate. */
export function plot(results: HarnessResults): string {
  const cdf: Series[] = results.responders.map((r) => ({ name: r.responder, points: (find(r, 'latency, 64 sources')?.cdf ?? []).map(([us, f]) => [us, f * 100]) }));
  const sweep: Series[] = results.responders.map((r) => ({
    name: r.responder,
    points: SWEEP_RATES.flatMap((rate) => {
      const c = find(r, `sweep ${rate}`);
      return c === undefined ? [] : [[c.result.achievedRate, c.result.answeredFraction * 100] as [number, number]];
    }),
  }));
  return renderCharts([
    { title: 'NS→NA latency CDF (64 sources, 500 NS/s)', xLabel: 'latency, µs (log)', yLabel: '% of answers ≤ x', logX: true, yMax: 100, series: cdf },
    { title: 'Answered vs offered rate (64 sources, 1 s each)', xLabel: 'NS/s actually sent', yLabel: '% answered', logX: false, yMax: 100, series: sweep },
  ]);
}
