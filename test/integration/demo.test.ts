import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listNamespaces } from '../../src/lab/netns';
import { isRoot, runCli } from '../helpers/lab-tools';

const skip = isRoot() ? false : 'needs root for network namespaces (run: sudo npm test)';

test('demo: ping fails without the responder, works with it, shows the NA, tears everything down', { skip }, async () => {
  const result = await runCli(['demo'], { timeoutMs: 60_000 });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /1\. Without ndp-responder: .* no reply/);
  assert.match(result.stdout, /3\. With ndp-responder: .* reply in [\d.]+ ms/);
  assert.match(result.stdout, /NA on the LAN: 2001:db8::a:71a5 is-at [0-9a-f:]{17} \(R=0 S=1 O=1\)/);
  assert.match(result.stdout, /NS→NA latency on the LAN wire: \d+ µs/);
  assert.match(result.stdout, /Tearing down … done\./);
  const prefix = /\(netns (\S+)-lan\)/.exec(result.stdout)?.[1];
  assert.ok(prefix, 'the demo names its namespaces');
  const left = (await listNamespaces()).filter((ns) => ns.startsWith(`${prefix}-`));
  assert.deepEqual(left, [], 'no namespace left behind');
  const latency = /latency on the LAN wire: (\d+) µs/.exec(result.stdout)?.[1];
  process.stdout.write(`# demo NS→NA latency: ${latency} µs\n`);
});
