'use strict';
// Before the integration tests run as root: is every program they start installed? A missing
// one is one line naming its Debian package, and nothing runs (exit 3), instead of a timeout
// deep in a scenario. Tests that skip themselves with a reason when a tool is absent (Docker,
// systemd-analyze, the compiler for the prebuilt rebuild) only get an "optional" line.
// test/unit/test-preflight.test.ts checks that every program the tests and src/lab start
// by name is a row here.
const { accessSync, constants, statSync } = require('node:fs');
const { basename, delimiter, join } = require('node:path');

const ALL = '*';

/**
 * Programs the integration tests start besides node, with the Debian package that ships each
 * and the test files (test/integration/NAME.test.ts) that need it. `optional`: the tests that
 * need it skip themselves, saying why, when it is missing.
 */
const TOOLS = [
  { tool: 'ip', pkg: 'iproute2', tests: ALL }, // every namespace scenario (src/lab)
  { tool: 'sysctl', pkg: 'procps', tests: ALL },
  { tool: 'tcpdump', pkg: 'tcpdump', tests: ['debug-log', 'lab', 'least-privilege', 'responder', 'responder-edges'] },
  { tool: 'ping', pkg: 'iputils-ping', tests: ['container', 'docker', 'lab', 'least-privilege', 'lifecycle', 'package', 'responder', 'responder-edges'] },
  { tool: 'ndisc6', pkg: 'ndisc6', tests: ['docker', 'operations', 'responder', 'responder-edges'] },
  { tool: 'setpriv', pkg: 'util-linux', tests: ['container', 'least-privilege', 'responder-edges'] },
  { tool: 'nsenter', pkg: 'util-linux', tests: ['docker', 'lifecycle'] },
  { tool: 'sleep', pkg: 'coreutils', tests: ['docker', 'lab'] },
  { tool: 'sha256sum', pkg: 'coreutils', tests: ['prebuilt'] },
  { tool: 'git', pkg: 'git', tests: ['container', 'package'] },
  { tool: 'npm', pkg: 'npm', tests: ['container', 'package'] },
  { tool: 'dockerd', pkg: 'docker.io', tests: ['container', 'docker'], optional: true },
  { tool: 'docker', pkg: 'docker.io', tests: ['container', 'docker'], optional: true },
  { tool: 'busybox', pkg: 'busybox-static', tests: ['container', 'docker'], optional: true },
  { tool: 'unshare', pkg: 'util-linux', tests: ['container', 'docker'], optional: true },
  { tool: 'setcap', pkg: 'libcap2-bin', tests: ['container'], optional: true },
  { tool: 'tar', pkg: 'tar', tests: ['container', 'docker'], optional: true },
  { tool: 'ldd', pkg: 'libc-bin', tests: ['container'], optional: true },
  { tool: 'systemd-analyze', pkg: 'systemd', tests: ['systemd-unit'], optional: true },
  { tool: 'g++', pkg: 'g++', tests: ['prebuilt'], optional: true },
  { tool: 'make', pkg: 'make', tests: ['prebuilt'], optional: true },
  { tool: 'python3', pkg: 'python3', tests: ['prebuilt'], optional: true },
  { tool: 'strip', pkg: 'binutils', tests: ['prebuilt'], optional: true },
  { tool: 'objdump', pkg: 'binutils', tests: ['prebuilt'], optional: true },
];

/**
 * Test files whose tool-using parts skip when one of `tools` is missing (dockerSkipReason,
 * nodeBaseSkipReason): their other tools are then not required.
 */
const GATES = [
  { tests: ['container', 'docker'], tools: ['dockerd', 'docker', 'busybox', 'unshare'] },
  { tests: ['container'], tools: ['setcap'] },
];

/** The executable `name` in the first PATH directory that has one, or undefined. */
function findOnPath(name, path) {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      if (statSync(join(dir, name)).isFile()) return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** "lab" for dist/test/integration/lab.test.js; undefined for a file outside test/integration. */
function integrationName(file) {
  const parts = file.split(/[\\/]/);
  if (parts[parts.length - 2] !== 'integration') return undefined;
  return basename(file).replace(/\.test\.js$/, '');
}

/**
 * The preflight's verdict for the selected test `files` on `path`: one line per missing tool
 * (missing required ones are `errors`, missing optional ones `notes`). Tests listed in no row
 * need none of these tools.
 */
function preflight(files, path = process.env.PATH || '') {
  const selected = files.map(integrationName).filter((name) => name !== undefined);
  const missing = new Set(TOOLS.filter((row) => findOnPath(row.tool, path) === undefined).map((row) => row.tool));
  const gatedOff = new Set(GATES.filter((gate) => gate.tools.some((tool) => missing.has(tool))).flatMap((gate) => gate.tests));
  const errors = [];
  const notes = [];
  for (const row of TOOLS) {
    if (!missing.has(row.tool)) continue;
    const users = selected.filter((name) => row.tests === ALL || row.tests.includes(name));
    if (row.optional) {
      if (users.length > 0) notes.push(`ndp-responder tests: optional ${row.tool} (apt-get install ${row.pkg}) is missing: ${users.join(', ')} skip what needs it`);
      continue;
    }
    const needed = users.filter((name) => !gatedOff.has(name));
    if (needed.length > 0) errors.push(`ndp-responder tests: missing ${row.tool} (apt-get install ${row.pkg}), used by ${needed.join(', ')}`);
  }
  return { errors, notes };
}

module.exports = { TOOLS, GATES, preflight, findOnPath };
