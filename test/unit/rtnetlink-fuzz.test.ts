import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RtnetlinkError, decodeNetlinkDatagram } from '../../src/wire/rtnetlink';
import * as get from '../fixtures/rtnetlink-route-get';
import * as change from '../fixtures/rtnetlink-route-change';
import * as dump from '../fixtures/rtnetlink-route-dump';
import * as link from '../fixtures/rtnetlink-link';
import * as address from '../fixtures/rtnetlink-address';
import * as neighbour from '../fixtures/rtnetlink-neighbour';

const fixtures = Object.entries({ ...get, ...change, ...dump, ...link, ...address, ...neighbour });

/** Deterministic PRNG (mulberry32) so every failure is reproducible from its seed. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Decodes and reports anything thrown that is not an RtnetlinkError. */
function decodeOrExplain(bytes: Uint8Array): string | undefined {
  try {
    decodeNetlinkDatagram(bytes);
    return undefined;
  } catch (error) {
    return error instanceof RtnetlinkError ? undefined : String(error);
  }
}

describe('rtnetlink decode: damaged real datagrams only ever throw RtnetlinkError', () => {
  it('survives every truncation of every fixture', () => {
    for (const [name, bytes] of fixtures) {
      for (let length = 0; length < bytes.length; length++) {
        assert.equal(decodeOrExplain(bytes.subarray(0, length)), undefined, `${name} cut to ${length}`);
      }
    }
  });

  it('survives 300 random byte mutations of every fixture', () => {
    const random = mulberry32(0x71a5);
    for (const [name, bytes] of fixtures) {
      for (let round = 0; round < 300; round++) {
        const damaged = bytes.slice();
        const hits = 1 + Math.floor(random() * 4);
        for (let i = 0; i < hits; i++) {
          // Favour the first 64 bytes, where the headers and length fields live.
          const span = random() < 0.7 ? Math.min(64, damaged.length) : damaged.length;
          damaged[Math.floor(random() * span)] = Math.floor(random() * 256);
        }
        assert.equal(decodeOrExplain(damaged), undefined, `${name} round ${round}`);
      }
    }
  });
});
