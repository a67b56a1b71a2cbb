import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BenchResult } from '../../src/loadgen/report';
import { KERNEL_TIME_CASE, type CaseResult, type ResponderResults } from '../../bench/cases';
import { parseProcStat, perFrameMicroseconds, softirqCount, type MachineWindow } from '../../bench/machine-cpu';
import { markdownTable, plot, type HarnessResults } from '../../bench/output';
import { RESPONDERS, startedFastPath } from '../../bench/responders';
import { caseSelected, describeSelection, parseSelection, selectResponders } from '../../bench/selection';
import { STYLES } from '../../bench/svg';

/** A /proc/stat as this kernel prints it: the aggregate line among per-CPU lines and counters. */
function procStat(times: { user?: number; system?: number; idle?: number; softirq?: number }): string {
  const { user = 443215, system = 126711, idle = 991560, softirq = 22983 } = times;
  return [
    `cpu  ${user} 0 ${system} ${idle} 2980 0 ${softirq} 163 0 0`,
    'cpu0 214321 0 58870 509623 608 0 9601 78 0 0',
    'cpu1 228894 0 67840 481937 2372 0 13382 85 0 0',
    'intr 123456 0 0',
    'ctxt 987654',
    'softirq 1000 0 258525 3709 50008047',
    '',
  ].join('\n');
}

/** A window whose softirq and system grew by the given USER_HZ ticks. */
function window(softirqTicks: number, systemTicks: number, seconds = 3): MachineWindow {
  return {
    seconds,
    before: { cpu: parseProcStat(procStat({})) },
    after: { cpu: parseProcStat(procStat({ softirq: 22983 + softirqTicks, system: 126711 + systemTicks, idle: 991560 + 500 })) },
  };
}

function result(sent: number, answered: number): BenchResult {
  return {
    interface: 'lan0', mode: 'multicast', targets: ['2001:db8::a:71a5'], sources: 'pool:64', probes: 64, offeredRate: 100_000,
    sent, sendSeconds: sent / 100_000, achievedRate: 100_000, answered, answeredFraction: answered / sent, answeredAfterWindow: 0,
    answersPerSecond: answered / (sent / 100_000), unmatched: 0, latencyUs: { count: answered, min: 0.2, p50: 0.3, p90: 0.4, p99: 0.5, p999: 0.6, max: 1 },
    sendTimestamps: 'kernel', sendTimestampsMissing: 0, receiveDrops: 0, stoppedBy: 'count',
  };
}

function kernelTimeCase(sent: number, machine: MachineWindow | undefined, cpuPercent?: number): CaseResult {
  return { case: KERNEL_TIME_CASE, result: result(sent, sent), cdf: [[0.2, 0.5], [0.5, 1]], ...(machine === undefined ? {} : { machine }), ...(cpuPercent === undefined ? {} : { cpuPercent }) };
}

function baseline(label: string, sent: number, machine: MachineWindow): CaseResult {
  return { case: `${KERNEL_TIME_CASE}, nothing answering, ${label}`, result: result(sent, 0), cdf: [], machine };
}

/** Every responder the harness knows, as a run would record them; the fast path with two baselines. */
function fixture(): HarnessResults {
  const responders: ResponderResults[] = RESPONDERS.map((kind) => ({
    responder: kind.name,
    ...(kind.flags === undefined ? {} : { flags: [...kind.flags] }),
    cases: [],
  }));
  const byKey = (key: string): ResponderResults => responders[RESPONDERS.findIndex((k) => k.key === key)]!;
  Object.assign(byKey('bpf'), {
    fastPath: 'bpf-tcx',
    cases: [kernelTimeCase(300_000, window(40, 30), 0)],
    baselines: [baseline('before start', 300_000, window(3, 60)), baseline('after stop', 300_000, window(6, 45))],
  });
  Object.assign(byKey('socket'), { fastPath: 'socket', cases: [kernelTimeCase(300_000, window(90, 150), 70)] });
  Object.assign(byKey('kernel0'), { cases: [kernelTimeCase(200_000, window(20, 10))], baselines: [baseline('before start', 300_000, window(4, 10))] });
  Object.assign(byKey('defaults'), { cases: [kernelTimeCase(300_000, undefined, 30)] });
  return { date: 'fixture', machine: { cpus: 2, kernel: '6.18', node: 'v20', softirqAccounting: 'tick' }, responders, skipped: [] };
}

/** The cells of the table row whose label starts with `label`. */
function cells(table: string, label: string): string[] {
  const line = table.split('\n').find((l) => l.startsWith(`| ${label}`));
  assert.ok(line !== undefined, `no row "${label}" in\n${table}`);
  return line.split(' | ').slice(1).map((c) => c.replace(/ \|$/, ''));
}

describe('bench machine-wide CPU', () => {
  it('reads the aggregate cpu line of /proc/stat, not a per-CPU one', () => {
    assert.deepEqual(parseProcStat(procStat({})), { user: 443215, nice: 0, system: 126711, idle: 991560, iowait: 2980, irq: 0, softirq: 22983, steal: 163 });
    assert.throws(() => parseProcStat('cpu0 1 2 3 4 5 6 7 8\n'), /no aggregate cpu line/);
    assert.throws(() => parseProcStat('cpu  1 2 x 4 5 6 7 8\n'), /bad cpu line/);
  });

  it('sums a /proc/softirqs row over the CPUs', () => {
    const text = '                    CPU0       CPU1\n      NET_TX:       3709       3961\n      NET_RX:   50008047   56288867\n';
    assert.equal(softirqCount(text, 'NET_RX'), 106_296_914);
    assert.equal(softirqCount(text, 'NET_TX'), 7670);
    assert.equal(softirqCount(text, 'BLOCK'), undefined);
  });

  it('turns ticks into µs per frame sent (USER_HZ 100)', () => {
    assert.equal(perFrameMicroseconds(window(40, 0), ['softirq'], 300_000)?.toFixed(4), '1.3333');
    assert.equal(perFrameMicroseconds(window(40, 30), ['softirq', 'system'], 100_000), 7);
    assert.equal(perFrameMicroseconds(window(40, 0), ['softirq'], 0), undefined);
  });
});

describe('bench table', () => {
  const table = markdownTable(fixture());

  it('has a column per responder, the fast path with its limits off among them, flags and path named', () => {
    assert.deepEqual(cells(table, 'figure'), RESPONDERS.map((k) => k.name));
    assert.ok(RESPONDERS.some((k) => k.name === 'ndp-responder, fast path, limits off'));
    const flags = cells(table, 'flags beyond');
    const column = (key: string): number => RESPONDERS.findIndex((k) => k.key === key);
    assert.equal(flags[column('defaults')], 'defaults');
    assert.equal(flags[column('bpf')], '`--fast-path bpf --rate-limit-per-flow 0 --rate-limit-per-source 0 --rate-limit-global 0`');
    assert.equal(flags[column('socket')], '`--fast-path socket --rate-limit-per-flow 0 --rate-limit-per-source 0 --rate-limit-global 0`');
    assert.equal(flags[column('kernel0')], '—');
    const path = cells(table, 'answer path');
    assert.equal(path[column('bpf')], '`bpf-tcx`');
    assert.equal(path[column('socket')], '`socket`');
    assert.equal(path[column('defaults')], '—', 'not recorded: not guessed');
  });

  it('shows softirq and sys per NS, less the mean of the runs with nothing answering, from the /proc/stat readings', () => {
    const column = (key: string): number => RESPONDERS.findIndex((k) => k.key === key);
    const softirq = cells(table, 'same flood: softirq');
    // bpf: 40 ticks / 300k NS = 1.33 µs; baselines 3 and 6 ticks = 0.10 and 0.20 µs; mean 0.15.
    assert.equal(softirq[column('bpf')], '+1.18 (1.33 with it; 0.10 / 0.20 without)');
    // proxy_ndp: 20 ticks / 200k NS = 1.00 µs (the rate sent differs: per NS, not per second); one baseline, 4 / 300k.
    assert.equal(softirq[column('kernel0')], '+0.87 (1.00 with it; 0.13 without)');
    assert.equal(softirq[column('socket')], '3.00 (no baseline)');
    assert.equal(softirq[column('defaults')], '—', 'no readings: not measurable');
    assert.equal(softirq[column('ndppd')], '—');
    const sys = cells(table, 'same flood: sys');
    assert.equal(sys[column('bpf')], '−0.75 (1.00 with it; 2.00 / 1.50 without)');
    const answered = cells(table, '100k NS/s for 3 s');
    assert.equal(answered[column('bpf')], '100 % of 100k/s sent (0 %)');
    assert.equal(answered[column('kernel0')], '100 % of 100k/s sent (—)');
  });

  it('says what the kernel-time figures are and how this kernel accounts softirq', () => {
    assert.match(table, /machine-wide \(\/proc\/stat, all 2 CPUs/);
    assert.match(table, /less the same flood with nothing answering/);
    assert.match(table, /no CONFIG_IRQ_TIME_ACCOUNTING/);
    assert.doesNotMatch(table, /Partial run/);
    const partial = markdownTable({ ...fixture(), partial: 'Partial run: responders bpf.' });
    assert.match(partial, /\nPartial run: responders bpf\.\n/);
  });
});

describe('bench plot', () => {
  it('draws every responder in its own style with one legend under the panels', () => {
    const results = fixture();
    results.responders.forEach((r, i) => r.cases.push({ case: 'sweep 10000', result: result(10_000, 10_000 - i), cdf: [] }, { case: 'latency, 64 sources', result: result(1000, 1000), cdf: [[1 + i, 0.5], [2 + i, 1]] }));
    const svg = plot(results);
    for (const r of results.responders) assert.equal(svg.split(`>${r.responder}</text>`).length - 1, 1, `one legend entry for ${r.responder}`);
    assert.ok(STYLES.length >= results.responders.length);
    assert.equal(new Set(STYLES.map((s) => s.colour)).size, STYLES.length);
    for (const s of STYLES.slice(0, results.responders.length)) assert.ok(svg.includes(`stroke="${s.colour}"`), s.colour);
    const height = Number(/<svg [^>]*height="(\d+)"/.exec(svg)?.[1]);
    const lowestLegend = Math.max(...[...svg.matchAll(/<text x="[\d.]+" y="([\d.]+)" font-size="12">ndp/g)].map((m) => Number(m[1])));
    assert.ok(lowestLegend > 360 && lowestLegend < height, `legend at y ${lowestLegend}, below the 360 px panels, inside ${height}`);
  });
});

describe('bench selection', () => {
  it('parses --responders, --cases and --debug-cost', () => {
    assert.deepEqual(parseSelection([]), { debugCost: false });
    assert.deepEqual(parseSelection(['--responders', 'bpf,socket', '--cases=sweep|3 s', '--debug-cost']), { debugCost: true, responders: ['bpf', 'socket'], cases: 'sweep|3 s' });
    assert.throws(() => parseSelection(['--cases', '(']), /--cases: /);
    assert.throws(() => parseSelection(['--responders']), /--responders needs a value/);
    assert.throws(() => parseSelection(['--fast']), /unknown argument --fast/);
  });

  it('selects responders by key in table order and names the known keys for an unknown one', () => {
    assert.deepEqual(selectResponders(RESPONDERS, ['socket', 'bpf']).map((k) => k.key), ['bpf', 'socket']);
    assert.equal(selectResponders(RESPONDERS, undefined).length, RESPONDERS.length);
    assert.throws(() => selectResponders(RESPONDERS, ['fast']), /unknown fast \(known: defaults, bpf, socket, kernel0, kernel, ndppd\)/);
  });

  it('matches cases case-insensitively and describes a partial run', () => {
    const selection = parseSelection(['--cases', 'SWEEP 1000|3 s']);
    assert.deepEqual(['sweep 10000', 'sweep 100000', KERNEL_TIME_CASE, 'latency, 1 source', 'router under flood'].map((n) => caseSelected(selection, n)), [true, true, true, false, false]);
    assert.equal(describeSelection(parseSelection([])), undefined);
    assert.equal(describeSelection(parseSelection(['--responders', 'bpf', '--cases', 'x'])), 'Partial run: responders bpf; cases matching /x/i.');
  });
});

describe('bench responders', () => {
  it('reads the answer path from the started line of the JSON log', () => {
    const log = [
      '{"level":30,"msg":"fast path unavailable"}',
      '{"level":30,"interface":"eth0","targets":["2001:db8::a:71a5"],"fastPath":"bpf-tcx","msg":"started"}',
      '{"level":30,"msg":"route gained, answering"}',
    ].join('\n');
    assert.equal(startedFastPath(log), 'bpf-tcx');
    assert.equal(startedFastPath('{"fastPath":"socket","msg":"fast path unavailable, answering from the socket"}\n'), undefined);
  });

  it('names each ndp-responder column by what it runs', () => {
    const flags = (key: string): readonly string[] | undefined => RESPONDERS.find((k) => k.key === key)?.flags;
    assert.deepEqual(flags('defaults'), [], 'the defaults column adds nothing, whatever the defaults are');
    assert.deepEqual(flags('bpf')?.slice(0, 2), ['--fast-path', 'bpf']);
    assert.deepEqual(flags('socket')?.slice(0, 2), ['--fast-path', 'socket']);
    for (const key of ['bpf', 'socket']) for (const limit of ['--rate-limit-per-flow', '--rate-limit-per-source', '--rate-limit-global']) assert.equal(flags(key)?.[(flags(key)?.indexOf(limit) ?? -2) + 1], '0', `${key} ${limit}`);
  });
});
