import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..', '..');
const TARGET = `${process.platform}-${process.arch}`;
const ADDON = 'ndp_native.node';

/** Calls the addon once (CLOCK_REALTIME) in a fresh node and prints which ndp_native.node got mapped. */
const PROBE = `
const native = require(process.argv[1]);
const { sec } = native.now();
const maps = require('node:fs').readFileSync('/proc/self/maps', 'utf8');
const loaded = [...new Set(maps.split('\\n').map((l) => l.split(/\\s+/)[5]).filter((p) => p && p.endsWith('${ADDON}')))];
process.stdout.write(JSON.stringify({ sec, loaded }));
`;

/**
 * A copy of the package as npm installs it (package.json, dist/src, bin, prebuilds) in a temp dir,
 * without build/: what a user without a compiler has.
 */
function installedCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ndp-loader-'));
  copyFileSync(join(REPO, 'package.json'), join(dir, 'package.json'));
  cpSync(join(REPO, 'dist', 'src'), join(dir, 'dist', 'src'), { recursive: true });
  cpSync(join(REPO, 'bin'), join(dir, 'bin'), { recursive: true });
  cpSync(join(REPO, 'prebuilds'), join(dir, 'prebuilds'), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function probe(dir: string): { sec: number; loaded: string[] } {
  const result = spawnSync(process.execPath, ['-e', PROBE, join(dir, 'dist', 'src', 'io', 'native.js')], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as { sec: number; loaded: string[] };
}

/** `ndp-responder check` needs the addon at once (rtnetlink) and runs without privileges. */
function checkCommand(dir: string): { code: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [join(dir, 'bin', 'ndp-responder.js'), 'check', '--interface', 'lo'], { encoding: 'utf8', timeout: 10_000 });
  return { code: result.status, stderr: result.stderr };
}

describe(`native addon loader (${TARGET})`, { skip: TARGET === 'linux-x64' ? false : `the committed prebuilt is linux-x64, this is ${TARGET}` }, () => {
  let dir: string;
  before(() => {
    dir = installedCopy();
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('without build/, the committed prebuilt is loaded and works', () => {
    const { sec, loaded } = probe(dir);
    assert.deepEqual(loaded, [join(dir, 'prebuilds', TARGET, ADDON)]);
    assert.ok(Math.abs(sec - Date.now() / 1000) < 60, 'CLOCK_REALTIME from the prebuilt addon');
  });

  test('a local build (npm run build:native, into build/Release) wins over the prebuilt', () => {
    mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
    copyFileSync(join(dir, 'prebuilds', TARGET, ADDON), join(dir, 'build', 'Release', ADDON));
    try {
      assert.deepEqual(probe(dir).loaded, [join(dir, 'build', 'Release', ADDON)]);
    } finally {
      rmSync(join(dir, 'build'), { recursive: true, force: true });
    }
  });

  test('no prebuilt for this platform: one line naming npm run build:native, exit 3', () => {
    // As on linux-arm64: the package carries only another platform's binary.
    renameSync(join(dir, 'prebuilds', TARGET), join(dir, 'prebuilds', 'linux-other'));
    try {
      const { code, stderr } = checkCommand(dir);
      assert.equal(code, 3);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
      assert.match(stderr, /^ndp-responder: .*no native addon for linux-x64 \(prebuilt for: linux-other\): build it with "npm run build:native" in \S+ \(needs python3, make and g\+\+\)\n$/);
    } finally {
      renameSync(join(dir, 'prebuilds', 'linux-other'), join(dir, 'prebuilds', TARGET));
    }
  });

  test('a binary that does not load (wrong libc, damaged): one line with the reason and the fix, exit 3', () => {
    mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
    writeFileSync(join(dir, 'build', 'Release', ADDON), 'not an ELF object\n');
    try {
      const { code, stderr } = checkCommand(dir);
      assert.equal(code, 3);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
      assert.match(stderr, /cannot load the native addon \S+build\/Release\/ndp_native\.node \(.*\): build it with "npm run build:native"/);
    } finally {
      rmSync(join(dir, 'build'), { recursive: true, force: true });
    }
  });
});
