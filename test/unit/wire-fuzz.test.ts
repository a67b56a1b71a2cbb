/**
 * Fuzz-style robustness: deterministic random and mutated frames must either
 * decode or fail with a WireError, never with any other exception, and
 * decoded options must re-encode to the very bytes they came from.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WireError } from '../../src/wire/errors';
import { decodeAdvertisementFrame, decodeSolicitationFrame, encodeSolicitationFrame } from '../../src/wire/frame';
import { NdOption, encodeNdOptions, ndOptionsEncodingLength } from '../../src/wire/nd-options';
import * as captured from '../fixtures/captured';
import { hex, toHex } from '../fixtures/hex';
import { Random, mutateFrame, randomBytes, seededRandom } from '../fixtures/random';
import * as synthetic from '../fixtures/synthetic';

const FRAMES = 20_000;
const SEEDS = [Object.values(captured), Object.values(synthetic)].flat().map((text) => hex(text));
/** A well-formed NS with random options (link-layer, nonce, raw of random size), sometimes behind hop-by-hop. */
function structured(random: Random): Uint8Array {
  const options: NdOption[] = [];
  for (let n = random(5); n > 0; n--) {
    const kind = random(3);
    if (kind === 0) options.push({ type: (1 + random(2)) as 1 | 2, linkLayerAddress: randomBytes(random, 6) });
    else if (kind === 1) options.push({ type: 14, nonce: randomBytes(random, 6 + 8 * random(2)) });
    else options.push({ type: random(256), body: randomBytes(random, 6 + 8 * random(3)) });
  }
  return encodeSolicitationFrame({
    ethernetDestination: randomBytes(random, 6),
    ethernetSource: randomBytes(random, 6),
    ipv6Source: randomBytes(random, 16),
    ipv6Destination: randomBytes(random, 16),
    hopLimit: random(256),
    solicitation: { target: randomBytes(random, 16), options },
    hopByHop: random(2) === 0,
  });
}

/** Builds frame number `i`: a quarter pure noise, a quarter structured, half mutated captures. */
function frame(random: Random, i: number): Uint8Array {
  if (i % 4 === 0) return randomBytes(random, random(160));
  if (i % 4 === 1) return random(2) === 0 ? structured(random) : mutateFrame(random, structured(random));
  return mutateFrame(random, SEEDS[random(SEEDS.length)] ?? new Uint8Array());
}

/** Runs `decode`, returning its value or the WireError; any other exception fails the test. */
function attempt<T>(decode: () => T, bytes: Uint8Array): T | WireError {
  try {
    return decode();
  } catch (error) {
    if (error instanceof WireError) return error;
    assert.fail(`non-WireError ${String(error)} for frame ${toHex(bytes)}`);
  }
}

describe('decoders on random and mutated frames', () => {
  it(`throw nothing but WireError over ${FRAMES} frames, and re-encode options identically`, () => {
    const random = seededRandom(0x6e6470);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < FRAMES; i++) {
      const bytes = frame(random, i);
      const result = attempt(() => decodeSolicitationFrame(bytes), bytes);
      attempt(() => decodeAdvertisementFrame(bytes), bytes);
      const key = result instanceof WireError ? result.code : 'decoded';
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      if (result instanceof WireError) {
        assert.ok(result.offset >= 0 && result.offset <= bytes.length, `offset ${result.offset} outside the frame`);
        continue;
      }
      const options = result.solicitation.options;
      const encoded = new Uint8Array(ndOptionsEncodingLength(options));
      encodeNdOptions(options, encoded, 0);
      const original = bytes.subarray(result.icmpOffset + 24, result.icmpOffset + result.icmpLength);
      assert.equal(toHex(encoded), toHex(original), `options of frame ${toHex(bytes)}`);
    }
    // The mix must exercise both success and the main error paths, or the test proves little.
    for (const key of ['decoded', 'truncated', 'not-solicitation', 'bad-option-length', 'bad-version', 'bad-length']) {
      assert.ok((outcomes.get(key) ?? 0) > 50, `too few ${key}: ${JSON.stringify([...outcomes])}`);
    }
  });
});
