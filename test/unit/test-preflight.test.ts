/**
 * The test preflight (scripts/test-preflight.js): its table names every program the integration
 * tests start, and its verdict is one line per missing tool, optional ones only noted.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const ROOT = join(__dirname, '..', '..', '..');

interface ToolRow {
  tool: string;
  pkg: string;
  tests: '*' | string[];
  optional?: boolean;
}
interface Preflight {
  TOOLS: ToolRow[];
  GATES: { tests: string[]; tools: string[] }[];
  preflight(files: string[], path: string): { errors: string[]; notes: string[] };
}
// A plain script beside run-tests.js, outside the TypeScript build.
const { TOOLS, GATES, preflight } = require(join(ROOT, 'scripts', 'test-preflight.js')) as Preflight;

/** Program names in calls that start a program by a literal name: run('ip', …), runInNamespace(ns, 'ping', …), spawnSync('npm', …). */
const STARTS = /\b(?:run|runInNamespace|spawnInNamespace|spawn|spawnSync|execFile|execFileSync|execFileAsync|firstLine)\(\s*(?:[A-Za-z_][\w.!]*,\s*)?'([\w.+-]+)'/g;
/** Started by name but no tool to install: the runtime itself, and a name a test expects to be missing. */
const NOT_TOOLS = new Set(['node', 'no-such-command-here']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** A PATH of one directory holding an empty executable per name. */
function fakePath(parent: string, names: readonly string[]): string {
  const dir = mkdtempSync(join(parent, 'path-'));
  for (const name of names) {
    writeFileSync(join(dir, name), '');
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

const files = (...names: string[]): string[] => names.map((name) => join(ROOT, 'dist', 'test', 'integration', `${name}.test.js`));
const REQUIRED = TOOLS.filter((row) => row.optional !== true).map((row) => row.tool);
const EVERYTHING = TOOLS.map((row) => row.tool);

describe('test preflight', () => {
  const work = mkdtempSync(join(tmpdir(), 'ndp-preflight-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('names every program that src/lab, the integration tests and their helpers start by name', () => {
    const started = new Map<string, string>();
    for (const dir of ['src/lab', 'test/integration', 'test/helpers']) {
      for (const file of sources(join(ROOT, dir))) {
        for (const match of readFileSync(file, 'utf8').matchAll(STARTS)) started.set(match[1]!, file.slice(ROOT.length + 1));
      }
    }
    assert.ok(started.has('ip') && started.has('tcpdump'), `scanned the real sources: ${[...started.keys()].join(', ')}`);
    const unlisted = [...started].filter(([tool]) => !NOT_TOOLS.has(tool) && !TOOLS.some((row) => row.tool === tool));
    assert.deepEqual(unlisted, [], 'started but not in scripts/test-preflight.js');
  });

  it('lists only test files that exist', () => {
    const named = new Set([...TOOLS.flatMap((row) => (row.tests === '*' ? [] : row.tests)), ...GATES.flatMap((gate) => gate.tests)]);
    for (const name of named) assert.ok(existsSync(join(ROOT, 'test', 'integration', `${name}.test.ts`)), `test/integration/${name}.test.ts`);
  });

  it('with every tool installed, says nothing', () => {
    assert.deepEqual(preflight(files('lab', 'docker', 'prebuilt'), fakePath(work, EVERYTHING)), { errors: [], notes: [] });
  });

  it('one line per missing tool with its package and the tests that use it; only the selected tests count', () => {
    const path = fakePath(work, EVERYTHING.filter((tool) => tool !== 'tcpdump' && tool !== 'ndisc6'));
    assert.deepEqual(preflight(files('lab', 'demo'), path), {
      errors: ['ndp-responder tests: missing tcpdump (apt-get install tcpdump), used by lab'],
      notes: [],
    });
    assert.deepEqual(preflight(files('demo', 'bench'), path), { errors: [], notes: [] }, 'the demo test needs only ip and sysctl');
    assert.deepEqual(preflight([join(ROOT, 'dist', 'test', 'unit', 'wire-frame.test.js')], fakePath(work, [])), { errors: [], notes: [] }, 'unit tests need nothing');
  });

  it('optional tools are only noted; tests gated on a missing one do not require their other tools', () => {
    const path = fakePath(work, REQUIRED.filter((tool) => tool !== 'ping'));
    const { errors, notes } = preflight(files('docker', 'systemd-unit', 'lifecycle'), path);
    assert.deepEqual(errors, ['ndp-responder tests: missing ping (apt-get install iputils-ping), used by lifecycle'], 'docker skips without dockerd, so it needs no ping');
    assert.ok(notes.includes('ndp-responder tests: optional dockerd (apt-get install docker.io) is missing: docker skip what needs it'), notes.join('\n'));
    assert.ok(notes.includes('ndp-responder tests: optional systemd-analyze (apt-get install systemd) is missing: systemd-unit skip what needs it'), notes.join('\n'));
  });
});
