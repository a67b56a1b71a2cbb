/** `--fast-path` / `fast-path:`: the choice, its default, and its one-line error. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/file';
import { mergeOptions } from '../../src/config/load';
import { parseRunOptions } from '../../src/config/run-options';
import { UserError } from '../../src/model/errors';

const BASE = { interface: 'eth0', target: ['2001:db8::5'] };

describe('--fast-path', () => {
  test('defaults to auto (the kernel path where it loads, else the socket)', () => {
    assert.equal(parseRunOptions(BASE).daemon.fastPath, 'auto');
  });

  test('takes auto, bpf and socket', () => {
    for (const mode of ['auto', 'bpf', 'socket']) assert.equal(parseRunOptions({ ...BASE, fastPath: mode }).daemon.fastPath, mode);
  });

  test('refuses anything else with one line naming the choices', () => {
    assert.throws(() => parseRunOptions({ ...BASE, fastPath: 'xdp' }), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.equal(error.message, 'invalid --fast-path "xdp": expected one of auto, bpf, socket');
      return true;
    });
  });

  test('the file key fast-path reaches the same field; a flag wins', () => {
    const file = parseConfigText('interface: eth0\ntargets: [2001:db8::5]\nfast-path: bpf\n', 'c.yaml');
    assert.equal(parseRunOptions(mergeOptions(file, { values: {}, explicit: new Set(), configFile: 'c.yaml' })).daemon.fastPath, 'bpf');
    const flagged = mergeOptions(file, { values: { fastPath: 'auto' }, explicit: new Set(['fastPath']), configFile: 'c.yaml' });
    assert.equal(parseRunOptions(flagged).daemon.fastPath, 'auto');
  });
});
