import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from '../../src/lab/exec';
import type { DockerLab } from './docker-lab';
import { copyCheckout } from './packed-package';

/** Tag of the Node base image made by {@link importNodeBase}. */
export const NODE_BASE_IMAGE = 'ndp-node-base:test';
/** Tag of the busybox image whose default command serves HTTP on port 80 ({@link importWebImage}). */
export const WEB_IMAGE = 'ndp-busybox-httpd:test';

const NODE = realpathSync(process.execPath);
/** npm as installed beside this node (/usr/lib/node_modules/npm on Debian and NodeSource). */
const NPM_DIR = join(dirname(dirname(NODE)), 'lib', 'node_modules', 'npm');
const SETPRIV = '/usr/bin/setpriv';
const SETCAP = '/usr/sbin/setcap';
const BUSYBOX = '/bin/busybox';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Why {@link importNodeBase} cannot work on this machine, or undefined when it can. */
export function nodeBaseSkipReason(): string | undefined {
  for (const [path, pkg] of [[SETPRIV, 'util-linux'], [SETCAP, 'libcap2-bin'], [BUSYBOX, 'busybox-static'], [join(NPM_DIR, 'bin', 'npm-cli.js'), 'npm']] as const) {
    if (!existsSync(path)) return `${path} is missing (apt-get install ${pkg})`;
  }
  return undefined;
}

/** The shared objects `ldd` lists for `binaries`, the dynamic loader included. */
async function sharedLibraries(binaries: readonly string[]): Promise<string[]> {
  const { stdout } = await run('ldd', [...binaries]);
  const paths = [...stdout.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/g)].map((m) => m[1]!);
  return [...new Set(paths)];
}

/** Copy `from` to the same path under `root`, following symlinks. */
function place(root: string, from: string, to = from): void {
  mkdirSync(dirname(join(root, to)), { recursive: true });
  copyFileSync(realpathSync(from), join(root, to));
  chmodSync(join(root, to), lstatSync(realpathSync(from)).mode & 0o7777);
}

/**
 * A stand-in for node:20-bookworm-slim, built offline (Docker Hub is out of reach) with
 * `docker import` of a rootfs assembled from this machine: node and npm in /usr/local as in the
 * official image, setpriv, setcap, the libraries `ldd` lists, and busybox for /bin/sh and the
 * usual tools. `tags` also names it, e.g. 'node:20-bookworm-slim' for a Dockerfile's default.
 */
export async function importNodeBase(lab: DockerLab, tags: readonly string[] = []): Promise<void> {
  const root = join(lab.dir, 'node-base');
  rmSync(root, { recursive: true, force: true });
  place(root, NODE, '/usr/local/bin/node');
  cpSync(NPM_DIR, join(root, 'usr/local/lib/node_modules/npm'), { recursive: true });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));
  place(root, SETPRIV);
  place(root, SETCAP);
  for (const library of await sharedLibraries([NODE, SETPRIV, SETCAP])) place(root, library);
  place(root, BUSYBOX, '/bin/busybox');
  const { stdout } = await run(BUSYBOX, ['--list']);
  const dirs = PATH.split(':');
  for (const applet of stdout.split('\n').filter((a) => a !== '')) {
    // A real program (setpriv) wins over busybox's applet of the same name.
    if (dirs.some((d) => existsSync(join(root, d, applet)))) continue;
    symlinkSync('/bin/busybox', join(root, 'bin', applet));
  }
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  symlinkSync('/bin/busybox', join(root, 'usr/bin/env')); // the #! line of npm and our launcher
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  for (const dir of ['tmp', 'root']) mkdirSync(join(root, dir));
  chmodSync(join(root, 'tmp'), 0o1777);
  const tar = join(lab.dir, 'node-base.tar');
  await run('tar', ['-C', root, '-cf', tar, '.'], { timeoutMs: 60_000 });
  await lab.docker('import', '-c', `ENV PATH=${PATH}`, tar, NODE_BASE_IMAGE);
  for (const tag of tags) await lab.docker('tag', NODE_BASE_IMAGE, tag);
  rmSync(root, { recursive: true, force: true });
  rmSync(tar, { force: true });
}

/** A busybox image whose default command is `httpd -f -p 80` serving one page: the scenario's "web". */
export async function importWebImage(lab: DockerLab, page: string, tags: readonly string[] = []): Promise<void> {
  const root = join(lab.dir, 'web-rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'www'));
  copyFileSync(BUSYBOX, join(root, 'bin', 'busybox'));
  for (const applet of ['sh', 'httpd', 'sleep']) symlinkSync('busybox', join(root, 'bin', applet));
  writeFileSync(join(root, 'www', 'index.html'), page);
  const tar = join(lab.dir, 'web-rootfs.tar');
  await run('tar', ['-C', root, '-cf', tar, '.']);
  await lab.docker('import', '-c', 'CMD ["/bin/httpd", "-f", "-p", "80", "-h", "/www"]', tar, WEB_IMAGE);
  for (const tag of tags) await lab.docker('tag', WEB_IMAGE, tag);
  rmSync(root, { recursive: true, force: true });
}

/**
 * The build context a user's `docker build .` sends (a copy of the checkout; .dockerignore
 * trims it), plus .npm-offline-cache/ filled on this host by `npm ci`, from which the
 * Dockerfile's npm ci then installs without the network.
 */
export async function offlineBuildContext(dir: string): Promise<string> {
  const context = join(dir, 'context');
  await copyCheckout(context);
  const project = join(dir, 'npm-project');
  mkdirSync(project);
  for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(context, file), join(project, file));
  const cache = join(context, '.npm-offline-cache');
  await run('npm', ['ci', '--prefix', project, '--cache', cache, '--ignore-scripts', '--no-audit', '--no-fund'], { timeoutMs: 120_000 });
  rmSync(project, { recursive: true, force: true });
  rmSync(join(cache, '_logs'), { recursive: true, force: true });
  return context;
}

/** `docker build` against the lab's dockerd, with a bound fit for a first build (DockerLab.docker allows 60 s). */
export async function buildImage(lab: DockerLab, context: string, tag: string, buildArgs: Record<string, string> = {}): Promise<void> {
  const args = Object.entries(buildArgs).flatMap(([key, value]) => ['--build-arg', `${key}=${value}`]);
  await run('/usr/bin/docker', ['-H', lab.host, 'build', '--quiet', ...args, '-t', tag, context], { timeoutMs: 300_000 });
}
