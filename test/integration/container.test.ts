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
import { DockerLab, dockerSkipReason, readyOrSkip } from '../helpers/docker-lab';
import { NODE_BASE_IMAGE, WEB_IMAGE, buildImage, importNodeBase, importWebImage, nodeBaseSkipReason, offlineBuildContext } from '../helpers/docker-images';
import { pingUntil } from '../helpers/lab-tools';
import { LoggedProcess } from '../helpers/logged-process';
import { processStatus } from '../helpers/proc';

const IMAGE = 'ndp-responder:test';
// A /125 of the LAN /64 beside the scenario's br0 (2001:db8::a:71a0/125), on a bridge Docker makes.
const SUBNET = '2001:db8::c:0/125';
const WEB = '2001:db8::c:5';
const PAGE = 'served by the web container\n';
/** Bits 12 (CAP_NET_ADMIN) and 13 (CAP_NET_RAW), as /proc/PID/status prints them. */
const NET_RAW_AND_ADMIN = '0000000000003000';

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
  /** Set when dockerd cannot run here: every test then skips and says exactly why. */
  let cannotRun: string | undefined;

  const ready = (t: TestContext): { lab: Scenario; engine: DockerLab; logs: LoggedProcess } | undefined =>
    readyOrSkip<{ lab: Scenario; engine: DockerLab; logs: LoggedProcess }>(t, cannotRun, { lab, engine, logs });

  before(async () => {
    lab = await createScenario();
    engine = new DockerLab(lab.host.ns);
    try {
      await engine.start();
    } catch (error) {
      cannotRun = `dockerd cannot start on this machine: ${(error as Error).message}`;
      return;
    }
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
    runArgs = [
      'run', '-d', '--name', 'ndp-responder', '--network', 'host', '--read-only',
      '--cap-drop', 'ALL', '--cap-add', 'NET_RAW', '--cap-add', 'NET_ADMIN',
      '--group-add', socketGroup, '-v', `${engine.socket}:/var/run/docker.sock:ro`,
      // The image checks every 30 s; the test cannot wait that long.
      '--health-interval', '1s',
      IMAGE, 'run', '--interface', 'eth0', '--docker', '--log-format', 'json', '--metrics-listen', '127.0.0.1:9100',
    ];
    await engine.docker(...runArgs);
    logs = new LoggedProcess('/usr/bin/docker', ['-H', engine.host, 'logs', '--follow', 'ndp-responder']);
  });

  after(async () => {
    logs?.kill();
    await engine?.destroy();
    await lab?.destroy();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  test('the image is its base plus a few MB, and runs as uid 10001 with exactly CAP_NET_RAW and CAP_NET_ADMIN', async (t) => {
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
    for (const set of ['CapEff', 'CapPrm', 'CapAmb', 'CapBnd']) assert.equal(status[set], NET_RAW_AND_ADMIN, set);
    assert.equal(status.Name, 'node', 'the entrypoint and setpriv exec node in place');
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
    const sent = Number(/^ndp_responder_advertisements_sent_total (\d+)$/m.exec(metrics)?.[1] ?? 0);
    assert.ok(sent > 0, 'the responder in the container sent the advertisements');
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
      await env.engine.docker(...service.run);
    }
    const responder = plan.services.find((s) => s.name === 'ndp-responder')!;
    process.stdout.write(`# from docker-compose.yml: docker ${responder.run.join(' ')}\n`);
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
