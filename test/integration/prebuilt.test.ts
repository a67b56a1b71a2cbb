import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
const REPO = join(__dirname, '..', '..', '..');
const DIR = join(REPO, 'prebuilds', 'linux-x64');
const BINARY = join(DIR, 'ndp_native.node');

/** BUILDINFO's `key: value` lines. */
function buildInfo(): Record<string, string> {
  const lines = readFileSync(join(DIR, 'BUILDINFO'), 'utf8').split('\n').filter((l) => l !== '');
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
}

function firstLine(cmd: string, args: string[]): string | undefined {
  const result = spawnSync(cmd, args, { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.split('\n')[0]!.trim() : undefined;
}

/** Why the committed binary cannot be rebuilt byte for byte here, or undefined when it can. */
function rebuildSkipReason(): string | undefined {
  if (`${process.platform}-${process.arch}` !== 'linux-x64') return 'the committed prebuilt is linux-x64';
  for (const tool of ['make', 'python3']) if (firstLine(tool, ['--version']) === undefined) return `${tool} is missing`;
  const info = buildInfo();
  const cxx = firstLine('g++', ['--version']);
  const strip = firstLine('strip', ['--version']);
  if (cxx !== info.cxx) return `it was built with "${info.cxx}", this machine has "${cxx ?? 'no g++'}"`;
  if (strip !== info.strip) return `it was stripped with "${info.strip}", this machine has "${strip ?? 'no strip'}"`;
  return undefined;
}

/** Highest symbol version the binary needs from a library, e.g. GLIBC_2.17 → [2, 17]. */
function highestVersion(dynamicSymbols: string, prefix: string): number[] {
  const versions = [...dynamicSymbols.matchAll(new RegExp(`\\b${prefix}_([\\d.]+)\\b`, 'g'))].map((m) => m[1]!.split('.').map(Number));
  versions.sort((a, b) => a.reduce((order, n, i) => order || n - (b[i] ?? 0), 0) || a.length - b.length);
  return versions.at(-1) ?? [];
}

describe('the committed prebuilt addon (prebuilds/linux-x64)', () => {
  test('BUILDINFO names the hash of the committed binary', () => {
    const digest = execFileSync('sha256sum', [BINARY], { encoding: 'utf8' }).split(' ')[0];
    assert.equal(buildInfo().sha256, digest);
  });

  test('needs at most glibc 2.17 and GLIBCXX 3.4.21 (GCC 5), as docs/install.md says', { skip: firstLine('objdump', ['--version']) === undefined ? 'objdump is missing' : false }, () => {
    const symbols = execFileSync('objdump', ['-T', BINARY], { encoding: 'utf8' });
    assert.deepEqual(highestVersion(symbols, 'GLIBC'), [2, 17]);
    assert.deepEqual(highestVersion(symbols, 'GLIBCXX'), [3, 4, 21]);
  });

  test('is rebuilt byte for byte from native/ and binding.gyp (npm run build:prebuilt -- --check)', { skip: rebuildSkipReason() ?? false, timeout: 180_000 }, () => {
    const result = spawnSync('npm', ['run', '--silent', 'build:prebuilt', '--', '--check'], { cwd: REPO, encoding: 'utf8', timeout: 170_000 });
    const summary = result.stdout.split('\n').filter((l) => /^(rebuilt|committed) /.test(l));
    assert.equal(result.status, 0, `the committed binary is not what the sources build (run npm run build:prebuilt and commit it): ${summary.join(', ')} ${result.stderr.slice(-500)}`);
    process.stdout.write(`# ${summary.join(', ')}\n`);
  });
});
