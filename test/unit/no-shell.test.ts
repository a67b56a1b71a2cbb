/**
 * The daemon never runs a shell or any other program: only the network-namespace lab
 * (src/lab, and the demo in it) may start processes. Checked on the sources, so a
 * future `exec('ip route add ...')` shortcut fails here before it reaches a host.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..', '..', '..');
const SOURCES = join(ROOT, 'src');
/** Where starting processes is the point: throwaway namespaces for tests and the demo. */
const ALLOWED = [/^src\/lab\//];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const FORBIDDEN: [string, RegExp][] = [
  ['child_process', /\bchild_process\b/],
  ['shell: true', /\bshell\s*:\s*true\b/],
  ['execSync/execFile/spawn call', /\b(execSync|execFileSync|execFile|spawnSync|spawn)\s*\(/],
  ['eval', /\beval\s*\(|\bnew Function\s*\(/],
];

describe('the daemon never runs a shell', () => {
  it('no process-starting API in src outside the lab (and its demo)', () => {
    const files = sources(SOURCES).map((path) => relative(ROOT, path).split('\\').join('/'));
    assert.ok(files.includes('src/daemon/daemon.ts'), `scanned the real sources (${files.length} files)`);
    const offences: string[] = [];
    for (const file of files) {
      if (ALLOWED.some((pattern) => pattern.test(file))) continue;
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const [what, pattern] of FORBIDDEN) if (pattern.test(text)) offences.push(`${file}: ${what}`);
    }
    assert.deepEqual(offences, []);
  });
});
