#!/usr/bin/env node
'use strict';
// Runs every compiled *.test.js under dist/test with node's test runner.
// Files are listed explicitly: node's default pattern would also run helpers under test/.
// Integration tests create network namespaces and run one at a time; without root they skip
// themselves and say so. As root, a preflight (test-preflight.js) first checks that the
// programs the selected integration tests start are installed.
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');
const { preflight } = require('./test-preflight');

function find(dir) {
  let out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(find(path));
    // Only tests whose source still exists: a renamed or deleted test leaves a stale .js in dist/.
    else if (name.endsWith('.test.js') && existsSync(join(sources, relative(root, path)).replace(/\.js$/, '.ts'))) out.push(path);
  }
  return out;
}

const root = join(__dirname, '..', 'dist', 'test');
const sources = join(__dirname, '..', 'test');
const only = process.argv.slice(2);
let files = find(root);
if (only.length > 0) files = files.filter((f) => only.some((o) => f.includes(o)));
if (process.getuid && process.getuid() !== 0) {
  process.stdout.write('note: not root, so the network-namespace integration tests will be skipped (run: sudo npm test)\n');
} else {
  // As root the integration tests run for real: every program they start must be installed.
  const { errors, notes } = preflight(files);
  for (const line of [...notes, ...errors]) process.stderr.write(`${line}\n`);
  if (errors.length > 0) process.exit(3);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-concurrency=1', '--test-timeout=120000', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status === null ? 1 : result.status);
