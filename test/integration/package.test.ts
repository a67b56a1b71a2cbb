import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { flushNeighbours } from '../../src/lab/neighbours';
import { createScenario, type Scenario } from '../../src/lab/topology';
import { isRoot, pingUntil } from '../helpers/lab-tools';
import { LoggedProcess } from '../helpers/logged-process';
import { answeredAtStop } from '../helpers/daemon-process';
import { REPO, commandPath, minimalPath, packRepository, type PackResult } from '../helpers/packed-package';

const execFileAsync = promisify(execFile);
const TOOLCHAIN = ['cc', 'gcc', 'g++', 'c++', 'make', 'python3', 'python'];
const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** `command -v` for each name with PATH set to `path` only: the ones found. */
async function commandsOn(path: string, names: readonly string[]): Promise<string[]> {
  const script = names.map((n) => `command -v ${n} || true`).join('; ');
  const { stdout } = await execFileAsync('/bin/sh', ['-c', script], { env: { PATH: path } });
  return stdout.split('\n').filter((line) => line !== '');
}

describe('the npm package: packed, installed without a compiler, run', { timeout: 300_000 }, () => {
  let work: string;
  let pack: PackResult;
  let path: string;
  let prefix: string;
  let installOutput = '';
  let installMs = 0;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'ndp-package-'));
    pack = await packRepository(work);
    path = minimalPath(join(work, 'path'), ['node', 'npm']);
    prefix = join(work, 'prefix');
    const begin = Date.now();
    // --global into an empty prefix, as `sudo npm install -g ndp-responder` would; scripts allowed
    // to run (the default), so an install-time compile would be attempted and fail here.
    const { stdout, stderr } = await execFileAsync('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', pack.tarball], {
      env: { ...process.env, PATH: path },
      timeout: 120_000,
      encoding: 'utf8',
    });
    installMs = Date.now() - begin;
    installOutput = stdout + stderr;
    process.stdout.write(`# npm pack: ${pack.files.length} files, ${pack.size} bytes packed, ${pack.unpackedSize} unpacked; npm install -g took ${installMs} ms\n`);
  });

  after(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  test('the tarball holds what runs and nothing that cannot', () => {
    const paths = pack.files.map((f) => f.path);
    for (const wanted of ['LICENSE', 'README.md', 'package.json', 'bin/ndp-responder.js', 'dist/src/cli.js', 'prebuilds/linux-x64/ndp_native.node', 'contrib/systemd/ndp-responder.service', 'binding.gyp', 'native/addon.cc']) {
      assert.ok(paths.includes(wanted), `${wanted} is shipped`);
    }
    const stray = paths.filter((p) => p.endsWith('.map') || p.endsWith('.ts') || /^(scripts|test|bench|dist\/test|dist\/bench|build)\//.test(p));
    assert.deepEqual(stray, [], 'no source maps, TypeScript, tests, bench or scripts that need dist/test');
    assert.match(readFileSync(join(REPO, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) 2026 the ndp-responder authors\n/);
  });

  test('installed with only node and npm on PATH: no install script, the committed prebuilt, no build/', async () => {
    assert.deepEqual(await commandsOn(path, TOOLCHAIN), [], 'no compiler, make or python on the PATH npm ran with');
    const installed = join(prefix, 'lib', 'node_modules', 'ndp-responder');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { scripts: Record<string, string>; gypfile?: boolean };
    for (const script of ['preinstall', 'install', 'postinstall']) assert.equal(manifest.scripts[script], undefined, `no ${script} script`);
    assert.equal(manifest.gypfile, false, 'gypfile: false, so npm adds no implicit node-gyp rebuild for binding.gyp');
    assert.equal(existsSync(join(installed, 'build')), false, 'nothing was compiled');
    assert.equal(sha256(join(installed, 'prebuilds', 'linux-x64', 'ndp_native.node')), sha256(join(REPO, 'prebuilds', 'linux-x64', 'ndp_native.node')));
    const maps = readdirSync(join(installed, 'dist', 'src'), { recursive: true }).map(String).filter((f) => f.endsWith('.map'));
    assert.deepEqual(maps, []);
    assert.doesNotMatch(readFileSync(join(installed, 'dist', 'src', 'cli.js'), 'utf8'), /sourceMappingURL/, 'no reference to an unshipped map');
    // npm 11 lists `prepare` for any non-registry source (this tarball) but runs it only for git
    // and linked installs; it would fail here (no tsc), so the install succeeding shows it did not run.
    const warned = installOutput.split('\n').filter((l) => /install-scripts\s+ndp-responder@/.test(l));
    assert.ok(warned.every((l) => /\(prepare: tsc -p tsconfig\.build\.json\)$/.test(l)), `only prepare is listed: ${warned.join(' | ')}`);
    process.stdout.write(`# npm's allowScripts notice for the tarball: ${warned.length === 0 ? 'none' : warned.join(' | ').trim()}\n`);
  });

  test('the installed launcher refuses Node < 20 with one line, exit 3', async () => {
    const launcher = join(prefix, 'lib', 'node_modules', 'ndp-responder', 'bin', 'ndp-responder.js');
    // Node 18 is not on this machine: the launcher is shown an 18.19.0 version string instead.
    const pretend = `Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '18.19.0' } }); process.argv = [process.argv[0], ${JSON.stringify(launcher)}, '--version']; require(${JSON.stringify(launcher)});`;
    const result = await execFileAsync(process.execPath, ['-e', pretend]).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
    assert.equal(result.code, 3);
    assert.equal(result.stderr, 'ndp-responder: needs Node.js 20 or newer, this is 18.19.0\n');
  });

  describe('the installed command in network namespaces', { skip: isRoot() ? false : 'needs root for network namespaces (run: sudo npm test)' }, () => {
    let lab: Scenario | undefined;
    let daemon: LoggedProcess | undefined;
    before(async () => {
      lab = await createScenario();
    });
    after(async () => {
      daemon?.kill();
      await lab?.destroy();
    });

    test('`ndp-responder run` from the prefix answers for the container; the LAN pings it', async () => {
      const command = join(prefix, 'bin', 'ndp-responder');
      const args = ['netns', 'exec', lab!.host.ns, command, 'run', '--interface', 'eth0', '--target', lab!.container.address, '--via', 'br0', '--log-format', 'json'];
      // The shebang finds node on this PATH, which holds node and npm only.
      daemon = new LoggedProcess(commandPath('ip'), args, { ...process.env, PATH: path });
      await daemon.waitForLog((r) => r.msg === 'route gained, answering', 10_000, "'route gained, answering'");
      await flushNeighbours(lab!.lan.ns, 'lan0');
      const ms = await pingUntil(lab!.lan.ns, lab!.container.address, 5000);
      assert.notEqual(ms, undefined, `LAN ping to ${lab!.container.address} through the installed responder`);
      process.stdout.write(`# LAN reached ${lab!.container.address} ${ms} ms after the neighbour flush, via ${command}\n`);
      assert.equal((await daemon.stop('SIGTERM')).code, 0);
      // Default flags: the info-level 'stopped' line carries the counters (socket and kernel path).
      const stopped = daemon.logs.find((r) => r.msg === 'stopped');
      assert.ok(answeredAtStop(stopped) >= 1, `answered by the installed responder: ${JSON.stringify(stopped)}`);
    });
  });
});
