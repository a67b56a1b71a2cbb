/**
 * Fuzz-style robustness: deterministic random and mutated frames must either
 * decode or fail with a WireError, never with any other exception, and
 * decoded options must re-encode to the very bytes they came from.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WireError } from '../../src/wire/errors';
import { decodeAdvertisementFrame, decodeSolicitationFrame } from '../../src/wire/frame';
import { encodeNdOptions, ndOptionsEncodingLength } from '../../src/wire/nd-options';
import { fuzzFrame } from '../fixtures/fuzz-inputs';
import { toHex } from '../fixtures/hex';
import { seededRandom } from '../fixtures/random';

const FRAMES = 20_000;
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
      const bytes = fuzzFrame(random, i);
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
