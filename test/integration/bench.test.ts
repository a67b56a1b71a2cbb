import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { runWorker } from '../../bench/cases';
import { USER_HZ, type CpuTimes } from '../../bench/machine-cpu';
import { createScenario, type Scenario } from '../../src/lab/topology';
import type { BenchResult } from '../../src/loadgen/report';
import { DaemonProcess } from '../helpers/daemon-process';
import { isRoot, runCli } from '../helpers/lab-tools';

const skip = isRoot() ? false : 'needs root for network namespaces (run: sudo npm test)';

/** Runs `ndp-responder bench --json` in the LAN namespace and parses its one JSON line. */
async function bench(lab: Scenario, args: string[]): Promise<BenchResult> {
  const result = await runCli(['bench', '--interface', 'lan0', '--json', ...args], { prefix: ['ip', 'netns', 'exec', lab.lan.ns], timeoutMs: 30_000 });
  assert.equal(result.code, 0, `bench exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as BenchResult;
}

/** The latency fields are present, positive and ordered. */
function assertSaneLatency(result: BenchResult): void {
  const l = result.latencyUs;
  assert.equal(l.count, result.answered);
  const values = [l.min, l.p50, l.p90, l.p99, l.p999, l.max];
  for (const v of values) assert.ok(typeof v === 'number' && v > 0 && v < 2_000_000, `latency ${JSON.stringify(l)}`);
  for (let i = 1; i < values.length; i++) assert.ok((values[i - 1] ?? 0) <= (values[i] ?? 0), `percentiles ordered: ${JSON.stringify(l)}`);
}

describe('ndp-responder bench against the real responder', { skip }, () => {
  let lab: Scenario;
  let daemon: DaemonProcess;

  before(async () => {
    lab = await createScenario({ lanSources: 4 });
    // No answer rate limits: the benchmark measures the answer path, not the limiter.
    daemon = new DaemonProcess(lab.host.ns, [
      '--interface', 'eth0', '--target', lab.container.address, '--via', 'br0',
      '--rate-limit-per-flow', '0', '--rate-limit-per-source', '0', '--rate-limit-global', '0',
    ]);
    await daemon.started();
    await daemon.waitForLog((r) => r.msg === 'route gained, answering', 5000, 'route gained');
  });

  after(async () => {
    daemon?.kill();
    await lab?.destroy();
  });

  test('2000 multicast NS at 20k/s: at least 99 % answered, kernel timestamps, sane figures', async () => {
    await bench(lab, ['--target', lab.container.address, '--count', '500', '--rate', '5000']); // warm the responder's JIT
    const result = await bench(lab, ['--target', lab.container.address, '--count', '2000', '--rate', '20000', '--sources', 'pool:4']);
    process.stdout.write(`# bench: ${JSON.stringify(result)}\n`);
    assert.equal(result.sent, 2000);
    assert.equal(result.stoppedBy, 'count');
    assert.equal(result.probes, 4);
    assert.ok(result.achievedRate > 10_000 && result.achievedRate < 30_000, `achieved ${result.achievedRate}/s`);
    assert.ok(result.answeredFraction >= 0.99, `answered ${result.answered}/${result.sent}`);
    assert.equal(result.unmatched, 0);
    assert.equal(result.sendTimestamps, 'kernel');
    assertSaneLatency(result);
  });

  test('DAD and unicast probes are answered too', async () => {
    for (const mode of ['dad', 'unicast']) {
      const result = await bench(lab, ['--target', lab.container.address, '--count', '200', '--rate', '2000', '--mode', mode]);
      assert.ok(result.answeredFraction >= 0.99, `${mode}: answered ${result.answered}/${result.sent}`);
      assertSaneLatency(result);
    }
  });

  test('the harness worker reads machine-wide CPU time at the send phase\'s edges', async () => {
    const { result, machine } = await runWorker(lab, { target: [lab.container.address], count: '10000', rate: '20000', sources: 'pool:4' });
    assert.ok(result.answeredFraction >= 0.99, `answered ${result.answered}/${result.sent}`);
    assert.ok(machine !== undefined, 'no machine window');
    // The window is the send phase (the wait for late answers is not in it).
    assert.ok(Math.abs(machine.seconds - result.sendSeconds) < 0.05, `window ${machine.seconds} s, sending ${result.sendSeconds} s`);
    const fields = Object.keys(machine.before.cpu) as (keyof CpuTimes)[];
    for (const f of fields) assert.ok(machine.after.cpu[f] >= machine.before.cpu[f], `${f} went back`);
    // Every CPU's time lands in exactly one field: the deltas add up to the window on all CPUs.
    const ticks = fields.reduce((sum, f) => sum + machine.after.cpu[f] - machine.before.cpu[f], 0);
    const expected = machine.seconds * cpus().length * USER_HZ;
    assert.ok(Math.abs(ticks - expected) <= expected * 0.2 + 3, `${ticks} ticks over ${machine.seconds} s on ${cpus().length} CPUs`);
    // 10 000 NS over veth and their answers raise NET_RX softirqs.
    assert.ok((machine.after.netRx ?? 0) > (machine.before.netRx ?? 0), 'no NET_RX softirq counted');
  });

  test('a target nobody serves: nothing answered, bounded by --duration', async () => {
    const result = await bench(lab, ['--target', '2001:db8::b:1', '--count', '1000000', '--rate', '2000', '--duration', '0.5']);
    assert.equal(result.stoppedBy, 'duration');
    assert.ok(result.sent > 500 && result.sent < 1500, `sent ${result.sent} in 0.5 s at 2000/s`);
    assert.equal(result.answered, 0);
    assert.equal(result.answeredFraction, 0);
    assert.equal(result.latencyUs.count, 0);
  });
});

describe('ndp-responder bench errors', () => {
  test('unknown interface: one line, exit 3', async () => {
    const result = await runCli(['bench', '--interface', 'nosuchif0', '--target', '2001:db8::1']);
    assert.equal(result.code, 3);
    assert.equal(result.stderr, 'ndp-responder: interface nosuchif0 not found\n');
  });

  test('bad flags: one line, exit 2', async () => {
    for (const args of [['--rate', 'fast'], ['--mode', 'anycast'], ['--sources', 'pool:x']]) {
      const result = await runCli(['bench', '--interface', 'lo', '--target', '2001:db8::1', ...args]);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, /^ndp-responder: invalid --\w+ "[^"]+": .*\n$/);
    }
  });
});
