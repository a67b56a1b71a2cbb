#!/usr/bin/env node
'use strict';
// `npm run fuzz`: feeds N random, structured and mutated Ethernet frames (default 1 000 000)
// and as many rtnetlink datagrams, from a seed, through the decoders. Only WireError and
// RtnetlinkError may come out; each failure prints the seed, index and bytes needed to
// turn it into a named regression case (test/unit/decoder-fuzz.test.ts). Exit 1 on failure.
// Usage: node scripts/fuzz-decoders.js [--count N] [--seed S]   (after `npx tsc`)
const { parseArgs } = require('node:util');
const { join } = require('node:path');

const { values } = parseArgs({ options: { count: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '0x71a5' } } });
const count = Number(values.count);
const seed = Number(values.seed) >>> 0;
if (!Number.isInteger(count) || count < 1) {
  process.stderr.write(`fuzz-decoders: --count must be a positive integer, got ${values.count}\n`);
  process.exit(2);
}
// Capturing a stack for each of the millions of expected WireErrors costs more than the decoding;
// failures are replayed with stacks on.
Error.stackTraceLimit = 0;
const { fuzzDecoders } = require(join(__dirname, '..', 'dist', 'test', 'fuzz', 'decoder-fuzz.js'));
const report = fuzzDecoders(count, seed);
const rate = Math.round(((report.frames + report.datagrams) / report.ms) * 1000);
process.stdout.write(`seed 0x${seed.toString(16)}: ${report.frames} frames and ${report.datagrams} rtnetlink datagrams in ${(report.ms / 1000).toFixed(1)} s (${rate} inputs/s)\n`);
for (const [key, n] of [...report.outcomes].sort()) process.stdout.write(`  ${key.padEnd(40)} ${n}\n`);
for (const f of report.failures) {
  process.stdout.write(`FAIL ${f.decoder} seed 0x${f.seed.toString(16)} index ${f.index}\n  input ${f.input}\n  ${f.problem.split('\n').slice(0, 4).join('\n  ')}\n`);
}
process.stdout.write(report.failures.length === 0 ? 'no decoder threw past its boundary\n' : `${report.failures.length} failure(s) (first 20 shown)\n`);
process.exit(report.failures.length === 0 ? 0 : 1);
