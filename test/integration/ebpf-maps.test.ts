/** BPF maps through the addon: the four types the fast path may use, and the errors callers see. Root only. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMap, possibleCpus, sumPerCpu, type BpfMap } from '../../src/io/bpf';
import { isNativeError } from '../../src/io/native';
import { MapType } from '../../src/wire/ebpf/kernel-abi';

const skip = process.getuid?.() === 0 ? false : 'needs root (CAP_BPF) for bpf(2)';

const key = (n: number): Uint8Array => Uint8Array.of(n, 0, 0, 0);
const u64 = (n: number): Uint8Array => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(n), true);
  return bytes;
};

function withMap(type: number, maxEntries: number, body: (map: BpfMap) => void): void {
  const map = createMap({ type, keySize: 4, valueSize: 8, maxEntries, name: 'ndp_test' });
  try {
    body(map);
  } finally {
    map.close();
  }
}

/** Asserts that `attempt` throws the addon's error for `code` from bpf(2). */
function assertBpfError(attempt: () => unknown, code: string, command: string): void {
  assert.throws(attempt, (error: unknown) => isNativeError(error) && error.code === code && error.syscall === 'bpf' && (error as { command?: string }).command === command);
}

describe('BPF maps', { skip }, () => {
  for (const [name, type] of [
    ['hash', MapType.HASH],
    ['LRU hash', MapType.LRU_HASH],
  ] as const) {
    it(`${name}: update, lookup, keys, delete`, () => {
      withMap(type, 8, (map) => {
        map.update(key(1), u64(10));
        map.update(key(2), u64(20), 'create');
        assert.deepEqual(map.lookup(key(1)), u64(10));
        assert.equal(map.lookup(key(3)), undefined);
        assert.deepEqual(map.keys().map((k) => k[0]).sort(), [1, 2]);
        assertBpfError(() => map.update(key(1), u64(11), 'create'), 'EEXIST', 'BPF_MAP_UPDATE_ELEM');
        assertBpfError(() => map.update(key(3), u64(30), 'replace'), 'ENOENT', 'BPF_MAP_UPDATE_ELEM');
        assert.equal(map.delete(key(1)), true);
        assert.equal(map.delete(key(1)), false);
        assert.deepEqual(map.keys().map((k) => k[0]), [2]);
      });
    });
  }

  it('hash: a full map refuses a new key with E2BIG; LRU evicts instead', () => {
    withMap(MapType.HASH, 2, (map) => {
      map.update(key(1), u64(1));
      map.update(key(2), u64(2));
      assertBpfError(() => map.update(key(3), u64(3)), 'E2BIG', 'BPF_MAP_UPDATE_ELEM');
    });
    withMap(MapType.LRU_HASH, 2, (map) => {
      for (let n = 1; n <= 64; n++) map.update(key(n), u64(n));
      assert.ok(map.keys().length <= 64 && map.lookup(key(64)) !== undefined, 'the newest key is there');
    });
  });

  it('array: every index exists, zeroed; indexes past the end do not', () => {
    withMap(MapType.ARRAY, 4, (map) => {
      assert.deepEqual(map.lookup(key(3)), u64(0));
      map.update(key(3), u64(7));
      assert.deepEqual(map.lookup(key(3)), u64(7));
      assert.equal(map.lookup(key(4)), undefined);
      assertBpfError(() => map.update(key(0), u64(1), 'create'), 'EEXIST', 'BPF_MAP_UPDATE_ELEM');
    });
  });

  it('per-CPU array: one value per possible CPU, summed by sumPerCpu', () => {
    withMap(MapType.PERCPU_ARRAY, 2, (map) => {
      const cpus = possibleCpus();
      assert.equal(map.valueBytes, 8 * cpus);
      const values = new Uint8Array(8 * cpus);
      for (let cpu = 0; cpu < cpus; cpu++) values.set(u64(cpu + 1), 8 * cpu);
      map.update(key(1), values);
      assert.equal(sumPerCpu(map.lookup(key(1))!), BigInt((cpus * (cpus + 1)) / 2));
    });
  });

  it('refuses a key of the wrong size before any system call', () => {
    withMap(MapType.HASH, 2, (map) => assert.throws(() => map.lookup(Uint8Array.of(1)), RangeError));
  });

  it('reports an impossible map as EINVAL from BPF_MAP_CREATE', () => {
    assertBpfError(() => createMap({ type: MapType.ARRAY, keySize: 8, valueSize: 8, maxEntries: 1 }), 'EINVAL', 'BPF_MAP_CREATE');
  });

  it('a closed map says so instead of reusing its old fd number', () => {
    const map = createMap({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    map.close();
    map.close();
    assert.throws(() => map.lookup(key(0)), /closed/);
  });
});
