#!/usr/bin/env node
'use strict';
// Rebuilds the committed addon binary, prebuilds/<platform>-<arch>/ndp_native.node, from native/
// and binding.gyp: `npm run build:prebuilt` (needs python3, make, g++ and strip).
//
// The output is reproducible: the same compiler, binutils, Node headers and sources give the same
// bytes, whichever directory the checkout is in (no paths survive: symbols are stripped, and the
// build-id is a hash of the content). BUILDINFO beside the binary records what built it and its
// SHA-256; test/integration/prebuilt.test.ts rebuilds and compares when the toolchain matches.
//
// With --check it builds into a temp copy and compares instead of writing (exit 1 on a mismatch).
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { dirname, join } = require('node:path');

const root = join(__dirname, '..');
const target = `${process.platform}-${process.arch}`;
const outDir = join(root, 'prebuilds', target);

/**
 * node-gyp as npm runs it (npm_config_node_gyp), else the one on PATH. Node's own headers are used
 * when they are installed beside it (distribution packages and the node images have them), so
 * nothing is downloaded from nodejs.org.
 */
function nodeGyp(args, cwd) {
  const script = process.env.npm_config_node_gyp;
  const prefix = dirname(dirname(process.execPath));
  const localHeaders = existsSync(join(prefix, 'include', 'node', 'node_api.h'));
  const nodedir = process.env.npm_config_nodedir === undefined && localHeaders ? [`--nodedir=${prefix}`] : [];
  const [cmd, argv] = script ? [process.execPath, [script, ...args, ...nodedir]] : ['node-gyp', [...args, ...nodedir]];
  execFileSync(cmd, argv, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
}

function firstLine(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0].trim();
  } catch {
    return 'unknown';
  }
}

function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** What the binary depends on to be rebuilt byte for byte: compiler, strip, Node headers, node-gyp. */
function toolchain() {
  const gypPackage = process.env.npm_config_node_gyp ? join(dirname(process.env.npm_config_node_gyp), '..', 'package.json') : undefined;
  const gyp = gypPackage && existsSync(gypPackage) ? JSON.parse(readFileSync(gypPackage, 'utf8')).version : firstLine('node-gyp', ['--version']).replace(/^v/, '');
  return {
    cxx: firstLine(process.env.CXX || 'g++', ['--version']),
    strip: firstLine('strip', ['--version']),
    node: process.version,
    nodeGyp: gyp,
  };
}

/** Build in `dir` (a checkout with node_modules) and return the stripped binary's path in it. */
function build(dir) {
  nodeGyp(['rebuild', '--release'], dir);
  const built = join(dir, 'build', 'Release', 'ndp_native.node');
  const stripped = join(dir, 'build', 'ndp_native.stripped.node');
  execFileSync('strip', ['--strip-all', '-o', stripped, built]);
  return stripped;
}

/** A copy of the sources the binary is made from, in a fresh directory (so no path can leak in). */
function copyOfSources() {
  const dir = mkdtempSync(join(tmpdir(), 'ndp-prebuilt-'));
  for (const name of ['binding.gyp', 'package.json', 'native']) cpSync(join(root, name), join(dir, name), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function main() {
  const check = process.argv.includes('--check');
  const dir = copyOfSources();
  try {
    const binary = build(dir);
    const digest = sha256(binary);
    const committed = join(outDir, 'ndp_native.node');
    if (check) {
      const have = existsSync(committed) ? sha256(committed) : 'missing';
      process.stdout.write(`rebuilt ${digest}\ncommitted ${have}\n`);
      process.exitCode = have === digest ? 0 : 1;
      return;
    }
    mkdirSync(outDir, { recursive: true });
    copyFileSync(binary, committed);
    const info = { target, napiVersion: 8, sha256: digest, ...toolchain() };
    const text = Object.entries(info).map(([key, value]) => `${key}: ${value}\n`).join('');
    writeFileSync(join(outDir, 'BUILDINFO'), text);
    process.stdout.write(`wrote ${committed}\n${text}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
