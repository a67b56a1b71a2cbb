import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScenario, type Scenario } from '../../src/lab/topology';
import { runNdisc6 } from '../../src/lab/ndisc';
import { DaemonProcess, type LogRecord } from '../helpers/daemon-process';
import { BUSYBOX_IMAGE, DockerLab, dockerSkipReason, readyOrSkip } from '../helpers/docker-lab';
import { pingUntil, runCli } from '../helpers/lab-tools';

// A second /125 of the LAN /64, beside the scenario's own bridge (2001:db8::a:71a0/125 on br0).
const SUBNET = '2001:db8::d:0/125';
const ADDR = { web: '2001:db8::d:2', late: '2001:db8::d:3', victim: '2001:db8::d:4', after: '2001:db8::d:5' } as const;
const NETWORK = 'lan6';
const BRIDGE = 'br-lan6';

/** Probe with one NS from the LAN (ndisc6, 100 ms wait) until the answer is `want`; ms it took, or undefined. */
async function probeUntil(lab: Scenario, address: string, want: boolean, deadlineMs: number): Promise<number | undefined> {
  const begin = Date.now();
  let failure: unknown;
  do {
    try {
      const { ok } = await runNdisc6(lab.lan.ns, address, 'lan0', { retries: 1, waitMs: 100 });
      if (ok === want) return Date.now() - begin;
    } catch (error) {
      // ndisc6 itself failed (seen once: sendto EINVAL): neither an answer nor silence, so probe again.
      failure = error;
      await new Promise((r) => setTimeout(r, 50));
    }
  } while (Date.now() - begin < deadlineMs);
  if (failure !== undefined) throw failure;
  return undefined;
}

const containerLog = (msg: string, container: string) => (r: LogRecord): boolean => r.msg === msg && r.container === container;

describe('Docker integration against a real dockerd', { skip: dockerSkipReason() ?? false }, () => {
  let lab: Scenario | undefined;
  let engine: DockerLab | undefined;
  let daemon: DaemonProcess | undefined;
  /** Set when dockerd cannot run here: every test then skips and says exactly why. */
  let cannotRun: string | undefined;

  const ready = (t: TestContext): { lab: Scenario; engine: DockerLab; daemon: DaemonProcess } | undefined =>
    readyOrSkip<{ lab: Scenario; engine: DockerLab; daemon: DaemonProcess }>(t, cannotRun, { lab, engine, daemon });

  /** `docker run -d` on lan6 with a fixed address; resolves with the time `docker run` returned. */
  const runContainer = async (name: string, address: string, ...extra: string[]): Promise<number> => {
    // sleep as pid 1 ignores SIGTERM: a 1 s stop timeout keeps dockerd's shutdown short.
    await engine!.docker('run', '-d', '--stop-timeout', '1', '--name', name, '--network', NETWORK, '--ip6', address, ...extra, BUSYBOX_IMAGE, 'sleep', '3600');
    return Date.now();
  };

  before(async () => {
    lab = await createScenario();
    engine = new DockerLab(lab.host.ns);
    cannotRun = await engine.tryStart();
    if (cannotRun !== undefined) return;
    await engine.importBusybox();
    await engine.docker('network', 'create', '--ipv6', '--subnet', SUBNET, '-o', `com.docker.network.bridge.name=${BRIDGE}`, NETWORK);
    await runContainer('web', ADDR.web);
    const staticTarget = ['--target', lab.container.address, '--via', 'br0'];
    daemon = new DaemonProcess(lab.host.ns, ['--interface', 'eth0', '--docker-network', NETWORK, '--docker-host', engine.host, ...staticTarget]);
    await daemon.started();
  });

  after(async () => {
    daemon?.kill();
    await engine?.destroy();
    await lab?.destroy();
  });

  test('an existing container is answered and pinged from the LAN; static targets still work', async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const added = await env.daemon.waitForLog(containerLog('container added', 'web'), 5000, "'container added' web");
    assert.deepEqual([added.address, added.network, added.via], [ADDR.web, NETWORK, BRIDGE]);
    assert.notEqual(await pingUntil(env.lab.lan.ns, ADDR.web, 5000), undefined, `LAN ping to ${ADDR.web}`);
    assert.notEqual(await pingUntil(env.lab.lan.ns, env.lab.container.address, 3000), undefined, 'static --target answered beside Docker ones');
  });

  test('a container started later is answered within 2 s', async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    assert.notEqual(await probeUntil(env.lab, ADDR.late, false, 0), undefined, 'not answered before it exists');
    const called = Date.now();
    const running = await runContainer('late', ADDR.late);
    const ms = await probeUntil(env.lab, ADDR.late, true, 4000);
    assert.notEqual(ms, undefined, 'new container never answered');
    const sinceRunning = Date.now() - running;
    process.stdout.write(`# new container answered ${sinceRunning} ms after 'docker run -d' returned (${Date.now() - called} ms after it was called)\n`);
    assert.ok(sinceRunning < 2000, `answered ${sinceRunning} ms after the container started`);
    assert.notEqual(await pingUntil(env.lab.lan.ns, ADDR.late, 3000), undefined, 'and pinged from the LAN');
  });

  test('a removed container is no longer answered within 2 s, and the departure is logged', async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    await env.engine.docker('rm', '-f', 'late');
    const removed = Date.now();
    const ms = await probeUntil(env.lab, ADDR.late, false, 4000);
    assert.notEqual(ms, undefined, 'removed container still answered after 4 s');
    const since = Date.now() - removed;
    process.stdout.write(`# removed container silent ${since} ms after 'docker rm -f' returned\n`);
    assert.ok(since < 2000, `silent after ${since} ms`);
    const gone = await env.daemon.waitForLog(containerLog('container removed', 'late'), 1000, "'container removed' late");
    assert.equal(gone.address, ADDR.late);
  });

  test('dockerd stopped and started again: the responder keeps answering, reconnects and reconciles', async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    await runContainer('victim', ADDR.victim);
    assert.notEqual(await probeUntil(env.lab, ADDR.victim, true, 3000), undefined, 'victim answered');
    const victimPid = Number(await env.engine.docker('inspect', '-f', '{{.State.Pid}}', 'victim'));
    assert.equal(env.engine.pidFromFile(), env.engine.pid, 'the pid we signal is the one dockerd wrote');

    let begin = Date.now();
    await env.engine.stop();
    const stopMs = Date.now() - begin;
    await env.daemon.waitForLog((r) => r.msg === 'docker connection lost, reconnecting', 5000, 'connection lost');
    // live-restore: the containers outlive dockerd, and the responder keeps answering for them.
    assert.notEqual(await pingUntil(env.lab.lan.ns, ADDR.web, 3000), undefined, 'web pinged while dockerd is down');
    // A change dockerd cannot report: the victim's process dies while dockerd is away.
    process.kill(victimPid, 'SIGKILL');

    const connects = env.daemon.logs.filter((r) => r.msg === 'docker connected').length;
    begin = Date.now();
    await env.engine.start();
    process.stdout.write(`# dockerd stopped in ${stopMs} ms, started again in ${Date.now() - begin} ms\n`);
    const reconnected = (r: LogRecord): boolean => r.msg === 'docker connected' && env.daemon.logs.filter((x) => x.msg === 'docker connected').length > connects;
    await env.daemon.waitForLog(reconnected, 10_000, 'reconnected');
    await env.daemon.waitForLog(containerLog('container removed', 'victim'), 5000, "'container removed' victim after the reconcile");
    assert.notEqual(await probeUntil(env.lab, ADDR.victim, false, 2000), undefined, 'dead container no longer answered');
    assert.notEqual(await pingUntil(env.lab.lan.ns, ADDR.web, 3000), undefined, 'web still pinged after the restart');

    // The event stream is followed again: a new container is answered within 2 s.
    const running = await runContainer('after', ADDR.after);
    assert.notEqual(await probeUntil(env.lab, ADDR.after, true, 4000), undefined, 'container after the restart answered');
    const since = Date.now() - running;
    process.stdout.write(`# after the dockerd restart, a new container answered ${since} ms after 'docker run -d' returned\n`);
    assert.ok(since < 2000, `answered after ${since} ms`);
  });
});

describe('Docker flags without a dockerd', { skip: process.getuid?.() === 0 ? false : 'needs root for network namespaces (run: sudo npm test)' }, () => {
  let lab: Scenario | undefined;
  before(async () => {
    lab = await createScenario();
  });
  after(async () => {
    await lab?.destroy();
  });

  test('starts with zero targets while the Engine is absent, warns once, keeps retrying with backoff, stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ndp-no-docker-'));
    const socketPath = join(dir, 'docker.sock');
    const daemon = new DaemonProcess(lab!.host.ns, ['--interface', 'eth0', '--docker-network', NETWORK, '--docker-host', `unix://${socketPath}`]);
    // A socket that appears after the warning and hangs up on every connection: each retry shows as one accepted connection.
    const attempts: number[] = [];
    let onAttempt = (): void => undefined;
    const engine = createServer((connection) => {
      attempts.push(Date.now());
      connection.destroy();
      onAttempt();
    });
    try {
      const started = await daemon.started();
      assert.deepEqual(started.targets, []);
      const warning = await daemon.waitForLog((r) => r.msg === 'docker unreachable, retrying', 3000, 'unreachable warning');
      assert.match(String(warning.error), /ENOENT/);
      await new Promise<void>((resolve) => engine.listen(socketPath, resolve));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${attempts.length} connection attempts within 5 s`)), 5000);
        onAttempt = () => attempts.length >= 2 && (clearTimeout(timer), resolve());
      });
      const gap = attempts[1]! - attempts[0]!;
      process.stdout.write(`# without a dockerd: ${gap} ms between two connection attempts\n`);
      assert.ok(gap >= 200, `retried with backoff, not in a loop: ${gap} ms between attempts`);
      const warnings = daemon.logs.filter((r) => r.msg === 'docker unreachable, retrying');
      assert.deepEqual(warnings.map((r) => r.level), [40], 'one warning for the whole outage; the retries stay out of the default log');
      const { code, ms } = await daemon.stop();
      assert.equal(code, 0);
      assert.ok(ms < 1000, `stopped in ${ms} ms`);
    } finally {
      daemon.kill();
      engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unsupported --docker-host scheme is a one-line usage error', async () => {
    const result = await runCli(['run', '--interface', 'lo', '--docker', '--docker-host', 'tcp://127.0.0.1:2375']);
    assert.equal(result.code, 2);
    assert.equal(result.stderr.trim(), 'ndp-responder: invalid --docker-host "tcp://127.0.0.1:2375": tcp:// is not supported, only unix:///path/to/docker.sock');
  });
});
