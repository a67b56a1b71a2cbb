import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DockerApiError, DockerClient, parseDockerHost } from '../../src/sources/docker-api';
import { DockerSource } from '../../src/sources/docker-source';
import { parseDockerOptions } from '../../src/config/docker-options';
import { parseRunOptions } from '../../src/config/run-options';
import { UserError } from '../../src/model/errors';
import type { Target } from '../../src/model/target';
import { CONTAINERS_ONE, CONTAINERS_TWO, EVENT_STREAM, NETWORKS_ONE, NETWORKS_TWO } from '../fixtures/docker-engine';

const dir = mkdtempSync(join(tmpdir(), 'ndp-docker-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let sockets = 0;

/** A stand-in Engine on a unix socket, replaying recorded replies; its state is set by the test. */
class FakeEngine {
  readonly socketPath = join(dir, `engine-${++sockets}.sock`);
  networks: unknown = NETWORKS_ONE;
  containers: unknown = CONTAINERS_ONE;
  readonly paths: string[] = [];
  private readonly streams = new Set<ServerResponse>();
  private server: Server | undefined;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.paths.push(req.url ?? '');
      const url = req.url ?? '';
      if (url.startsWith('/v1.41/events?')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        this.streams.add(res);
        res.on('close', () => this.streams.delete(res));
        return;
      }
      const body = url === '/v1.41/networks' ? this.networks : url === '/v1.41/containers/json' ? this.containers : undefined;
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? { message: `page not found: ${url}` }));
    });
    await new Promise<void>((resolve) => this.server!.listen(this.socketPath, resolve));
  }

  /** Write raw text to every follower of /events (tests cut events mid-object on purpose). */
  write(text: string): void {
    for (const res of this.streams) res.write(text);
  }

  /** Like dockerd exiting: every connection dropped, the socket gone. */
  async stop(): Promise<void> {
    for (const res of this.streams) res.destroy();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

function collectingLogger(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

/** Resolve once `probe` holds, polling every 5 ms; reject after `ms`. */
async function eventually(probe: () => boolean, ms: number, what: string): Promise<number> {
  const begin = Date.now();
  while (!probe()) {
    if (Date.now() - begin > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - begin;
}

describe('Docker Engine client over a unix socket', () => {
  test('GETs under /v1.41 and parses the reply; an error reply quotes the Engine message', async () => {
    const engine = new FakeEngine();
    await engine.start();
    const client = new DockerClient(parseDockerHost(`unix://${engine.socketPath}`));
    assert.deepEqual(await client.listNetworks(), NETWORKS_ONE);
    await assert.rejects(client.inspectNetwork('nope'), (e: unknown) => e instanceof DockerApiError && e.status === 404 && /HTTP 404 page not found/.test(e.message));
    assert.deepEqual(engine.paths, ['/v1.41/networks', '/v1.41/networks/nope']);
    await engine.stop();
  });

  test('an absent socket is a transport error naming the endpoint', async () => {
    const client = new DockerClient(parseDockerHost(`unix://${join(dir, 'absent.sock')}`));
    await assert.rejects(client.listContainers(), /cannot reach the Docker Engine at unix:\/\/.*absent\.sock: ENOENT/);
  });

  test('events cut mid-object arrive whole; the stream asks for network and container events only', async () => {
    const engine = new FakeEngine();
    await engine.start();
    const client = new DockerClient(parseDockerHost(`unix://${engine.socketPath}`));
    const events: unknown[] = [];
    let ended: Error | undefined;
    let opened = false;
    const stream = client.followEvents({ onOpen: () => (opened = true), onEvent: (e) => events.push(e), onEnd: (e) => (ended = e) });
    await eventually(() => opened, 2000, 'stream open');
    assert.match(decodeURIComponent(engine.paths[0]!), /filters=\{"type":\["network","container"\]\}/);
    for (let i = 0; i < EVENT_STREAM.length; i += 97) engine.write(EVENT_STREAM.slice(i, i + 97));
    await eventually(() => events.length === 16, 2000, '16 events');
    await engine.stop();
    await eventually(() => ended !== undefined, 2000, 'end of stream');
    stream.close();
  });
});

describe('DockerSource: reconcile, follow events, survive Engine restarts', () => {
  test('lists on connect, follows events, logs arrivals/departures, reconnects and reconciles', async () => {
    const engine = new FakeEngine();
    await engine.start();
    const { log, lines } = collectingLogger();
    const emitted: (readonly Target[])[] = [];
    const source = new DockerSource({
      api: new DockerClient(parseDockerHost(`unix://${engine.socketPath}`)),
      selection: { networks: ['lan6'], all: false },
      log,
      onTargets: (t) => emitted.push(t),
      backoffMs: { initial: 20, max: 80 },
    });
    const texts = (): string[] => (emitted.at(-1) ?? []).map((t) => `${t.text}%${t.via}`);
    try {
      source.start();
      await eventually(() => emitted.length === 1, 2000, 'first listing');
      assert.deepEqual(texts(), ['2001:db8::a:71a5%br-lan6']);
      assert.deepEqual(lines.filter((l) => l.msg === 'container added').map((l) => [l.container, l.address, l.network, l.via]), [['web', '2001:db8::a:71a5', 'lan6', 'br-lan6']]);

      // A container starts: the Engine lists it, then sends the event (split across writes).
      engine.networks = NETWORKS_TWO;
      engine.containers = CONTAINERS_TWO;
      const start = EVENT_STREAM.split('\n')[3]!;
      engine.write(start.slice(0, 40));
      engine.write(`${start.slice(40)}\n`);
      const ms = await eventually(() => emitted.length === 2, 2000, 'listing after start event');
      assert.ok(ms < 500, `applied ${ms} ms after the event`);
      assert.deepEqual(texts(), ['2001:db8::a:71a2%br-lan6', '2001:db8::a:71a5%br-lan6']);

      // Irrelevant events (create, kill) cause no listing.
      const listed = engine.paths.length;
      engine.write(`${EVENT_STREAM.split('\n')[1]!}\n${EVENT_STREAM.split('\n')[10]!}\n`);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(engine.paths.length, listed, 'no GET after create/kill');

      // dockerd goes away: targets are kept; it comes back without db: reconciled.
      await engine.stop();
      await eventually(() => lines.some((l) => l.msg === 'docker connection lost, reconnecting'), 2000, 'lost');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(emitted.length, 2, 'nothing withdrawn while the Engine is away');
      assert.equal(lines.filter((l) => l.level === 40).length, 1, 'one warning per outage, retries at debug');
      engine.containers = CONTAINERS_ONE;
      await engine.start();
      await eventually(() => emitted.length === 3, 2000, 'reconcile after reconnect');
      assert.deepEqual(texts(), ['2001:db8::a:71a5%br-lan6']);
      assert.deepEqual(lines.filter((l) => l.msg === 'container removed').map((l) => [l.container, l.address]), [['db', '2001:db8::a:71a2']]);
    } finally {
      source.stop();
      await engine.stop();
    }
  });

  test('a missing network is reported once, then picked up when it appears', async () => {
    const engine = new FakeEngine();
    engine.networks = NETWORKS_ONE;
    engine.containers = CONTAINERS_TWO;
    await engine.start();
    const { log, lines } = collectingLogger();
    const emitted: (readonly Target[])[] = [];
    const source = new DockerSource({ api: new DockerClient(parseDockerHost(`unix://${engine.socketPath}`)), selection: { networks: ['auto6'], all: false }, log, onTargets: (t) => emitted.push(t) });
    try {
      source.start();
      await eventually(() => emitted.length === 1, 2000, 'first listing');
      assert.deepEqual(emitted[0], [], 'the first listing is emitted even when empty');
      assert.equal(lines.filter((l) => l.msg === 'docker network not found, waiting for it').length, 1);
      engine.write(`${EVENT_STREAM.split('\n')[8]!}\n${EVENT_STREAM.split('\n')[8]!}\n`);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(lines.filter((l) => l.msg === 'docker network not found, waiting for it').length, 1, 'reported once');
      assert.equal(emitted.length, 1, 'an unchanged listing is not emitted again');
      engine.networks = NETWORKS_TWO;
      engine.write(`${EVENT_STREAM.split('\n')[4]!}\n`);
      await eventually(() => emitted.length === 2, 2000, 'auto6 target');
      assert.deepEqual(emitted[1]!.map((t) => `${t.text}%${t.via}`), ['2001:db8::b:2%br-4a60de76d7af']);
    } finally {
      source.stop();
      await engine.stop();
    }
  });
});

describe('Docker flags', () => {
  test('--target becomes optional with --docker-network or --docker', () => {
    const config = parseRunOptions({ interface: 'eth0', dockerNetwork: ['lan6', 'lan6'] });
    assert.deepEqual(config.docker?.selection, { networks: ['lan6'], all: false });
    assert.equal(config.daemon.targets.length, 0);
    assert.equal(parseRunOptions({ interface: 'eth0', docker: true }).docker?.selection.all, true);
    assert.throws(() => parseRunOptions({ interface: 'eth0' }), /no target: .*--docker-network NAME/);
  });

  test('endpoint: --docker-host, else DOCKER_HOST, else the default socket; only unix://', () => {
    assert.equal(parseDockerOptions({ docker: true }, {})?.endpoint.socketPath, '/var/run/docker.sock');
    assert.equal(parseDockerOptions({ docker: true }, { DOCKER_HOST: 'unix:///run/d.sock' })?.endpoint.socketPath, '/run/d.sock');
    assert.equal(parseDockerOptions({ docker: true, dockerHost: 'unix:///x.sock' }, { DOCKER_HOST: 'unix:///y' })?.endpoint.socketPath, '/x.sock');
    const bad: [Parameters<typeof parseDockerOptions>[0], NodeJS.ProcessEnv, RegExp][] = [
      [{ docker: true, dockerHost: 'tcp://10.0.0.1:2375' }, {}, /invalid --docker-host "tcp:\/\/10\.0\.0\.1:2375": tcp:\/\/ is not supported/],
      [{ docker: true }, { DOCKER_HOST: 'ssh://me@host' }, /invalid DOCKER_HOST "ssh:\/\/me@host": ssh:\/\/ is not supported/],
      [{ docker: true, dockerHost: '/var/run/docker.sock' }, {}, /expected unix:\/\/\/path/],
      [{ dockerNetwork: ['bad name'] }, {}, /invalid --docker-network "bad name"/],
      [{ dockerHost: 'unix:///x' }, {}, /--docker-host needs --docker or --docker-network/],
    ];
    for (const [raw, env, message] of bad) {
      assert.throws(() => parseDockerOptions(raw, env), (e: unknown) => e instanceof UserError && e.exitCode === 2 && message.test(e.message));
    }
  });
});
