import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/lab/exec';
import { sleep } from '../../src/lab/wait';
import { DockerClient, parseDockerHost } from '../../src/sources/docker-api';

const DOCKERD = '/usr/sbin/dockerd';
/** Debian docker.io's client, by absolute path: a preinstalled newer client may shadow it on PATH. */
const DOCKER = '/usr/bin/docker';
const BUSYBOX = '/bin/busybox';
/** Tag of the image built by {@link DockerLab.importBusybox}. */
export const BUSYBOX_IMAGE = 'ndp-busybox:test';

/**
 * The set-up a Docker test needs, or undefined after skipping the test with the reason: why
 * dockerd could not run (`cannotRun`), else that a part of the set-up is missing.
 */
export function readyOrSkip<T extends Record<string, unknown>>(t: { skip(message?: string): void }, cannotRun: string | undefined, parts: { [K in keyof T]: T[K] | undefined }): T | undefined {
  if (cannotRun !== undefined || Object.values(parts).some((part) => part === undefined)) {
    t.skip(cannotRun ?? 'setup failed');
    return undefined;
  }
  return parts as T;
}

/** Why the Docker integration tests cannot run on this machine, or undefined when they can. */
export function dockerSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces and dockerd (run: sudo npm test)';
  for (const [path, pkg] of [[DOCKERD, 'docker.io'], [DOCKER, 'docker.io'], [BUSYBOX, 'busybox-static'], ['/usr/bin/nsenter', 'util-linux'], ['/usr/bin/unshare', 'util-linux']] as const) {
    if (!existsSync(path)) return `${path} is missing (apt-get install ${pkg})`;
  }
  // The private /etc/docker is bind-mounted over it, so the mount point must exist (docker.io creates it).
  if (!existsSync('/etc/docker')) return '/etc/docker is missing (apt-get install docker.io creates it)';
  return undefined;
}

/**
 * A private dockerd running in the host namespace of a lab scenario: its own data, exec and
 * socket folders under a temp dir, a private /etc/docker (mount namespace), no iptables or
 * forwarding changes, and live-restore (containers keep running while it is stopped). Entered with nsenter, not `ip netns exec`, whose /sys remount makes dockerd
 * fail with "Devices cgroup isn't mounted".
 */
export class DockerLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'ndp-dockerd-'));
  readonly socket = join(this.dir, 'docker.sock');
  readonly host = `unix://${this.socket}`;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private static live = new Set<DockerLab>();

  constructor(private readonly namespace: string) {
    for (const sub of ['etc', 'data', 'exec']) mkdirSync(join(this.dir, sub));
    DockerLab.installExitHook();
    DockerLab.live.add(this);
  }

  /** The dockerd process id, while it runs. */
  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  /** {@link start}, or why dockerd cannot run on this machine (every Docker test then skips saying so). */
  async tryStart(): Promise<string | undefined> {
    try {
      await this.start();
      return undefined;
    } catch (error) {
      return `dockerd cannot start on this machine: ${(error as Error).message}`;
    }
  }

  /** Start dockerd and wait until its API answers; throws with the log's last lines if it cannot. */
  async start(timeoutMs = 30_000): Promise<void> {
    const d = this.dir;
    const flags = [
      '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--userland-proxy=false',
      // live-restore: containers outlive a dockerd restart, as on hosts that use it.
      '--live-restore', '--shutdown-timeout=1', `--data-root=${d}/data`, `--exec-root=${d}/exec`, `-H`, this.host, `--pidfile=${d}/docker.pid`,
    ];
    // unshare and nsenter exec in place, so the child's pid is dockerd's own.
    const script = `mount --bind "$1/etc" /etc/docker && shift && exec "$@"`;
    const argv = ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', d, 'nsenter', `--net=/var/run/netns/${this.namespace}`, DOCKERD, ...flags];
    const child = spawn('unshare', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => chunks.push(c));
    child.stderr!.on('data', (c: Buffer) => chunks.push(c));
    this.child = child;
    this.exited = new Promise((resolve) => child.on('exit', () => resolve()));
    this.logText = () => Buffer.concat(chunks).toString('utf8');
    const client = new DockerClient(parseDockerHost(this.host));
    const begin = Date.now();
    while (Date.now() - begin < timeoutMs) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (await client.listNetworks().then(() => true, () => false)) return;
      await sleep(100);
    }
    const tail = this.logText().trim().split('\n').slice(-3).join(' | ');
    const why = child.exitCode !== null || child.signalCode !== null ? 'dockerd exited at start' : `dockerd not answering after ${timeoutMs} ms`;
    await this.stop();
    throw new Error(`${why}: ${tail || 'no output'}`);
  }

  /** dockerd's output so far. */
  logText: () => string = () => '';

  /** Stop dockerd by its pid (SIGTERM, SIGKILL after 20 s) and wait for it to exit. */
  async stop(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    process.kill(pid, 'SIGTERM');
    const killed = await Promise.race([this.exited!.then(() => false), sleep(20_000).then(() => true)]);
    if (killed && this.pid !== undefined) {
      process.kill(pid, 'SIGKILL');
      await this.exited;
    }
  }

  /** Run the docker.io client against this dockerd. */
  async docker(...args: string[]): Promise<string> {
    const { stdout } = await run(DOCKER, ['-H', this.host, ...args], { timeoutMs: 60_000 });
    return stdout.trim();
  }

  /** Build a tiny image from the static busybox (Docker Hub is out of reach) with `docker import`. */
  async importBusybox(): Promise<void> {
    const root = join(this.dir, 'rootfs');
    mkdirSync(join(root, 'bin'), { recursive: true });
    copyFileSync(BUSYBOX, join(root, 'bin', 'busybox'));
    for (const applet of ['sh', 'sleep', 'ip', 'ping', 'cat']) symlinkSync('busybox', join(root, 'bin', applet));
    const tar = join(this.dir, 'rootfs.tar');
    await run('tar', ['-C', root, '-cf', tar, '.']);
    await this.docker('import', tar, BUSYBOX_IMAGE);
  }

  /** Remove every container, stop dockerd, delete the temp folders; never throws. */
  async destroy(): Promise<void> {
    try {
      if (this.pid !== undefined) {
        const ids = (await this.docker('ps', '-aq')).split('\n').filter((id) => id !== '');
        if (ids.length > 0) await this.docker('rm', '-f', ...ids);
      }
    } catch {
      // dockerd already broken: stopping it below still ends its containers
    }
    await this.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
    DockerLab.live.delete(this);
  }

  /** The pid written by dockerd itself (for messages). */
  pidFromFile(): number | undefined {
    try {
      return Number(readFileSync(join(this.dir, 'docker.pid'), 'utf8').trim());
    } catch {
      return undefined;
    }
  }

  private static hookInstalled = false;

  /** If the test process dies early, still ask each dockerd to stop (it then stops its containers). */
  private static installExitHook(): void {
    if (DockerLab.hookInstalled) return;
    DockerLab.hookInstalled = true;
    process.once('exit', () => {
      for (const lab of DockerLab.live) {
        const pid = lab.pid;
        if (pid !== undefined) {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {
            // already gone
          }
        }
      }
    });
  }
}
