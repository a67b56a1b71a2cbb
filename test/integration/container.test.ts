import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runInNamespace } from '../../src/lab/exec';
import { flushNeighbours } from '../../src/lab/neighbours';
import { createScenario, type Scenario } from '../../src/lab/topology';
import { sleep } from '../../src/lab/wait';
import { composePlan } from '../helpers/compose-file';
import { seriesValue } from '../helpers/prometheus';
import { DockerLab, dockerSkipReason, readyOrSkip } from '../helpers/docker-lab';
import { NODE_BASE_IMAGE, WEB_IMAGE, buildImage, importNodeBase, importWebImage, nodeBaseSkipReason, offlineBuildContext } from '../helpers/docker-images';
import { pingUntil } from '../helpers/lab-tools';
import { LoggedProcess } from '../helpers/logged-process';
import { processStatus } from '../helpers/proc';
import { GRANTED_CAPABILITIES, SOCKET_PATH_CAPABILITIES, capabilityName } from '../../src/core/privileges';
import type { JsonLogRecord } from '../helpers/logged-process';

const IMAGE = 'ndp-responder:test';
// A /125 of the LAN /64 beside the scenario's br0 (2001:db8::a:71a0/125), on a bridge Docker makes.
const SUBNET = '2001:db8::c:0/125';
const WEB = '2001:db8::c:5';
const PAGE = 'served by the web container\n';
/** A capability mask as /proc/PID/status prints it (16 hex digits). */
function mask(bits: readonly number[]): string {
  return bits.reduce((set, bit) => set | (1n << BigInt(bit)), 0n).toString(16).padStart(16, '0');
}
/** The stated set's --cap-add names (NET_RAW, NET_ADMIN, BPF). */
const CAP_ADD = GRANTED_CAPABILITIES.flatMap((bit) => ['--cap-add', capabilityName(bit).slice('CAP_'.length)]);
/** Default flags: `auto` is the default; until this checkout's default says so, ask for it. */
const ANSWERED = 'ndp_responder_fast_path_answered_total';
/** The socket path's answers (the kernel's are path="bpf"). */
const SENT = 'ndp_responder_advertisements_sent_total{path="socket"}';
const fastPathLines = (logs: readonly JsonLogRecord[]): JsonLogRecord[] => logs.filter((r) => r.module === 'fast-path');

/** `docker run` arguments without `--cap-add BPF` (for an engine that does not know CAP_BPF). */
function withoutBpf(args: readonly string[]): string[] {
  return args.filter((arg, i) => !(arg === 'BPF' && args[i - 1] === '--cap-add') && !(arg === '--cap-add' && args[i + 1] === 'BPF'));
}

/** GET `url` from inside namespace `ns` (node's fetch: the static busybox wget crashes resolving). */
async function httpGet(ns: string, url: string): Promise<string> {
  const script = 'fetch(process.argv[1], { signal: AbortSignal.timeout(5000) }).then(async (r) => process.stdout.write(await r.text()))';
  return (await runInNamespace(ns, process.execPath, ['-e', script, url])).stdout;
}

describe('the container image (Dockerfile) in a real dockerd, offline', { skip: dockerSkipReason() ?? nodeBaseSkipReason() ?? false, timeout: 600_000 }, () => {
  let lab: Scenario | undefined;
  let engine: DockerLab | undefined;
  let work: string | undefined;
  let logs: LoggedProcess | undefined;
  let runArgs: string[] = [];
  let context = '';
  /** Why this dockerd refuses `--cap-add BPF` (Docker < 23.0 does not know CAP_BPF), or undefined when it grants it. */
  let bpfRefused: string | undefined;
  /** Set when dockerd cannot run here: every test then skips and says exactly why. */
  let cannotRun: string | undefined;

  const ready = (t: TestContext): { lab: Scenario; engine: DockerLab; logs: LoggedProcess } | undefined =>
    readyOrSkip<{ lab: Scenario; engine: DockerLab; logs: LoggedProcess }>(t, cannotRun, { lab, engine, logs });

  before(async () => {
    lab = await createScenario();
    engine = new DockerLab(lab.host.ns);
    cannotRun = await engine.tryStart();
    if (cannotRun !== undefined) return;
    work = mkdtempSync(join(tmpdir(), 'ndp-image-'));
    let begin = Date.now();
    await importNodeBase(engine);
    await importWebImage(engine, PAGE);
    context = await offlineBuildContext(work);
    const prepared = Date.now() - begin;
    begin = Date.now();
    await buildImage(engine, context, IMAGE, { BASE: NODE_BASE_IMAGE });
    process.stdout.write(`# base images and build context ready in ${prepared} ms; docker build took ${Date.now() - begin} ms\n`);

    await engine.docker('network', 'create', '--ipv6', '--subnet', SUBNET, '-o', 'com.docker.network.bridge.name=br-lan6', 'lan6');
    await engine.docker('run', '-d', '--name', 'web', '--network', 'lan6', '--ip6', WEB, WEB_IMAGE);
    const socketGroup = String(statSync(engine.socket).gid);
    bpfRefused = await engine.docker('create', '--cap-drop', 'ALL', '--cap-add', 'BPF', IMAGE).then(
      async (id) => {
        await engine!.docker('rm', id);
        return undefined;
      },
      (error: Error) => error.message.split('\n').find((line) => /capabilit/i.test(line))?.trim() ?? error.message,
    );
    const stated = [
      'run', '-d', '--name', 'ndp-responder', '--network', 'host', '--read-only',
      '--cap-drop', 'ALL', ...CAP_ADD,
      '--group-add', socketGroup, '-v', `${engine.socket}:/var/run/docker.sock:ro`,
      // The image checks every 30 s; the test cannot wait that long.
      '--health-interval', '1s',
      IMAGE, 'run', '--interface', 'eth0', '--docker', '--log-format', 'json', '--metrics-listen', '127.0.0.1:9100',
    ];
    runArgs = bpfRefused === undefined ? stated : withoutBpf(stated);
    await engine.docker(...runArgs);
    logs = new LoggedProcess('/usr/bin/docker', ['-H', engine.host, 'logs', '--follow', 'ndp-responder']);
  });

  after(async () => {
    logs?.kill();
    await engine?.destroy();
    await lab?.destroy();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  test('the image is its base plus a few MB, and runs as uid 10001 with exactly the capabilities the container was given', async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const [size, baseSize] = await Promise.all([IMAGE, NODE_BASE_IMAGE].map(async (image) => Number(await env.engine.docker('image', 'inspect', '-f', '{{.Size}}', image))));
    const added = size! - baseSize!;
    process.stdout.write(`# image ${(size! / 1e6).toFixed(1)} MB = base ${(baseSize! / 1e6).toFixed(1)} MB + ${(added / 1e6).toFixed(1)} MB; docker ${runArgs.join(' ')}\n`);
    assert.ok(added < 15e6, `the image adds ${added} bytes to its base`);
    await env.logs.waitForLog((r) => r.msg === 'started', 10_000, "'started'");
    const pid = Number(await env.engine.docker('inspect', '-f', '{{.State.Pid}}', 'ndp-responder'));
    const status = processStatus(pid);
    assert.match(status.Uid ?? '', /^10001\s+10001\s+10001\s+10001$/);
    const given = bpfRefused === undefined ? GRANTED_CAPABILITIES : SOCKET_PATH_CAPABILITIES;
    for (const set of ['CapEff', 'CapPrm', 'CapAmb', 'CapBnd']) assert.equal(status[set], mask(given), set);
    assert.equal(status.Name, 'node', 'the entrypoint and setpriv exec node in place');
  });

  test('default flags: the kernel path where this dockerd grants CAP_BPF, else one info line naming CAP_BPF', async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const started = await env.logs.waitForLog((r) => r.msg === 'started', 10_000, "'started'");
    const lines = fastPathLines(env.logs.logs);
    if (bpfRefused === undefined) {
      assert.equal(started.fastPath, 'bpf-tcx', JSON.stringify(lines));
      assert.deepEqual(lines.map((r) => r.msg), ['answering in the kernel for single-address targets']);
      return;
    }
    const version = await env.engine.docker('version', '-f', '{{.Server.Version}}');
    process.stdout.write(`# dockerd ${version} refuses --cap-add BPF (${bpfRefused}): the container runs without it and falls back\n`);
    // What the README says of engines before 23.0: they do not know the capability at all.
    assert.match(bpfRefused, /unknown capability: "CAP_BPF"/);
    assert.equal(started.fastPath, 'socket');
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.deepEqual([lines[0]!.level, lines[0]!.msg, lines[0]!.reason], [30, 'fast path unavailable, answering from the socket', 'missing CAP_BPF: the in-kernel path needs CAP_BPF and CAP_NET_ADMIN']);
  });

  test('finds the web container through the mounted Docker socket; the LAN pings it and fetches its page', async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const added = await env.logs.waitForLog((r) => r.msg === 'container added' && r.container === 'web', 10_000, "'container added' web");
    assert.deepEqual([added.address, added.network, added.via], [WEB, 'lan6', 'br-lan6']);
    await flushNeighbours(env.lab.lan.ns, 'lan0');
    const ms = await pingUntil(env.lab.lan.ns, WEB, 5000);
    assert.notEqual(ms, undefined, `LAN ping to ${WEB}`);
    const metrics = await httpGet(env.lab.host.ns, 'http://127.0.0.1:9100/metrics');
    const series = (name: string): number => seriesValue(metrics, name) ?? 0;
    // From the kernel when the container has CAP_BPF, else from the socket.
    if (bpfRefused === undefined) assert.ok(series(ANSWERED) > 0, 'the responder in the container answered from the kernel');
    else assert.ok(series(SENT) > 0, 'the responder in the container sent the advertisements');
    assert.equal(await httpGet(env.lab.lan.ns, `http://[${WEB}]/`), PAGE);
    process.stdout.write(`# LAN pinged ${WEB} ${ms} ms after the neighbour flush and fetched its page\n`);
  });

  test('without --cap-add (or under no-new-privileges): one line naming the capabilities, exit 3', async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    for (const flags of [['--cap-drop', 'ALL'], ['--cap-drop', 'ALL', '--cap-add', 'NET_RAW', '--cap-add', 'NET_ADMIN', '--security-opt', 'no-new-privileges']]) {
      const args = ['-H', env.engine.host, 'run', '--rm', '--network', 'host', ...flags, IMAGE, 'run', '--interface', 'eth0', '--target', WEB];
      const { stderr } = await run('/usr/bin/docker', args, { okExitCodes: [3], timeoutMs: 30_000 });
      const lines = stderr.split('\n').filter((l) => l !== '' && !l.startsWith('WARNING: IPv4 forwarding'));
      assert.deepEqual(lines, ['ndp-responder: missing privileges: needs CAP_NET_RAW (and CAP_NET_ADMIN); run as root or grant the capabilities'], flags.join(' '));
    }
  });

  test('HEALTHCHECK: healthy once /metrics answers with the uplink up', async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    let health = '';
    const begin = Date.now();
    while (Date.now() - begin < 20_000) {
      health = await env.engine.docker('inspect', '-f', '{{.State.Health.Status}}', 'ndp-responder');
      if (health === 'healthy') break;
      await sleep(250);
    }
    assert.equal(health, 'healthy', await env.engine.docker('inspect', '-f', '{{json .State.Health}}', 'ndp-responder'));
  });

  test('docker-compose.yml as written: lan6, web at 2001:db8::a:71a5, the responder beside it with --docker-network lan6', async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    env.logs.kill();
    await env.engine.docker('rm', '-f', 'ndp-responder', 'web');
    await env.engine.docker('network', 'rm', 'lan6');
    // The file's own addresses: free 2001:db8::a:71a0/125, which the scenario put on br0.
    await run('ip', ['-n', env.lab.host.ns, 'link', 'del', 'br0']);
    // Stand-ins under the names the file and the Dockerfile use, so both are used unchanged.
    await env.engine.docker('tag', NODE_BASE_IMAGE, 'node:20-bookworm-slim');
    await env.engine.docker('tag', WEB_IMAGE, 'nginx');
    const plan = composePlan(readFileSync(join(context, 'docker-compose.yml'), 'utf8'), {
      NDP_INTERFACE: 'eth0',
      DOCKER_GID: String(statSync(env.engine.socket).gid),
      DOCKER_SOCKET: env.engine.socket,
    });
    for (const network of plan.networks) await env.engine.docker(...network);
    for (const service of plan.services) {
      if (service.build !== undefined) await buildImage(env.engine, join(context, service.build), service.image);
      // As the file's comment says: remove BPF where the engine does not know it.
      const args = bpfRefused === undefined ? service.run : withoutBpf(service.run);
      if (args.length !== service.run.length) process.stdout.write(`# ${service.name}: cap_add BPF left out, this dockerd refuses it\n`);
      if (service.name === 'ndp-responder') process.stdout.write(`# from docker-compose.yml: docker ${args.join(' ')}\n`);
      await env.engine.docker(...args);
    }
    const composeLogs = new LoggedProcess('/usr/bin/docker', ['-H', env.engine.host, 'logs', '--follow', 'ndp-responder']);
    try {
      const added = await composeLogs.waitForLog((r) => r.msg === 'container added' && r.container === 'web', 10_000, "'container added' web");
      assert.deepEqual([added.address, added.network, added.via], ['2001:db8::a:71a5', 'lan6', 'br-lan6']);
      await flushNeighbours(env.lab.lan.ns, 'lan0');
      assert.notEqual(await pingUntil(env.lab.lan.ns, '2001:db8::a:71a5', 5000), undefined, 'LAN ping to the web container');
      assert.equal(await httpGet(env.lab.lan.ns, 'http://[2001:db8::a:71a5]/'), PAGE);
    } finally {
      composeLogs.kill();
    }
  });
});
