/** The harness's outputs: the markdown table and the SVG plot, from the JSON results. */
import { formatMicroseconds } from '../src/loadgen/stats';
import type { CaseResult, ResponderResults } from './cases';
import { SWEEP_RATES } from './cases';
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
  machine: { cpus: number; kernel: string; node: string };
  responders: ResponderResults[];
  skipped: string[];
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
    `${results.machine.cpus} CPUs, Linux ${results.machine.kernel}, Node ${results.machine.node}; veth lab in network namespaces; latency from kernel timestamps (send: SO_TIMESTAMPING, receive: SO_TIMESTAMPNS). CPU is the responder process's utime+stime over the send phase (% of one core); the kernel's softirq time is not attributable (—). Sweep rows: 64 sources, 1 s each; the answered fraction is of the NS actually sent (\"sent\"), answers after the last send are counted as \"late\" and left out of answers/s.`,
    '',
    `| figure | ${rs.map((r) => r.responder).join(' | ')} |`,
    `|---|${rs.map(() => '---').join('|')}|`,
    row('flags beyond `run -i eth0 --via br0 -t SUBNET`', flagsCell),
    row('NS→NA p50 / p99, 1 source, 500 NS/s', (r) => lat(find(r, 'latency, 1 source'))),
    row('NS→NA p50 / p99, 64 sources, 500 NS/s', (r) => lat(find(r, 'latency, 64 sources'))),
    row('NS→NA p50 / p99, idle (10 NS/s)', (r) => lat(find(r, 'latency, idle (10 NS/s)'))),
    row('NS→NA p50 / p99 under load, 10k NS/s offered', (r) => lat(find(r, 'sweep 10000'))),
    row('NS→NA p50 / p99 under load, 100k NS/s offered', (r) => lat(find(r, 'sweep 100000'))),
    ...SWEEP_RATES.map((rate) => row(`${rate / 1000}k NS/s offered: answered (CPU)`, (r) => sweepCell(find(r, `sweep ${rate}`)))),
    row('max answers/s within the sending window', maxAnswers),
    row('CPU under 100k NS/s for a foreign target', (r) => cpu(find(r, 'foreign-target flood'))),
    row('answered, random-source flood (100k NS/s)', (r) => pct(find(r, 'random-source flood'))),
    row('router resolving all at once under a 100k NS/s random-source flood: REACHABLE (CPU)', (r) => routerCell(results.routerUnderFlood?.find((c) => c.responder === r.responder))),
    row('RSS before / after the floods', (r) => (r.rssBeforeMiB === undefined ? '—' : `${r.rssBeforeMiB} / ${r.rssAfterMiB ?? '—'} MiB`)),
  ];
  if (results.skipped.length > 0) lines.push('', `Skipped: ${results.skipped.join('; ')}.`);
  const t = results.configuredTargets;
  if (t !== undefined) {
    lines.push('', `## ${t.targets} configured targets (ndp-responder)`, '');
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
    { title: 'Answered vs offered rate (64 sources)', xLabel: 'offered NS/s', yLabel: '% answered', logX: false, yMax: 100, series: sweep },
  ]);
}
