/**
 * Decoder fuzzing: every frame and datagram decoder either decodes or throws its own typed
 * error (WireError, RtnetlinkError); the pipeline's validateSolicitation never throws, gives
 * the oracle's verdict, and the same verdict standalone as inside a larger buffer (no read past
 * its frame); and a frame decodes the same standalone as embedded.
 * Used by `npm run fuzz` (a million inputs) and, with a small count, by `npm test`.
 */
import { SolicitationView } from '../../src/core/solicitation-view';
import { validateSolicitation } from '../../src/core/validate';
import { WireError } from '../../src/wire/errors';
import { decodeAdvertisementFrame, decodeSolicitationFrame } from '../../src/wire/frame';
import { decodeNetlinkDatagram, RtnetlinkError } from '../../src/wire/rtnetlink';
import { fuzzDatagram, fuzzFrame } from '../fixtures/fuzz-inputs';
import { validateSolicitationFrame } from '../oracle/reference-responder';
import { toHex } from '../fixtures/hex';
import { randomBytes, seededRandom, type Random } from '../fixtures/random';

/** One input that broke a decoder's contract, with what it takes to reproduce it. */
export interface FuzzFailure {
  readonly decoder: string;
  readonly seed: number;
  readonly index: number;
  readonly input: string;
  readonly problem: string;
}

/** What a run did: how many inputs, how they ended, what failed, how long it took. */
export interface FuzzReport {
  readonly frames: number;
  readonly datagrams: number;
  readonly outcomes: Map<string, number>;
  readonly failures: FuzzFailure[];
  readonly ms: number;
}

const OWN_MAC = Uint8Array.of(0x02, 0, 0, 0, 0x71, 0xa5);
const MAX_FAILURES = 20;
const view = new SolicitationView();

/** The oracle's verdict on a frame: `ok` or the reason. */
function referenceVerdict(bytes: Uint8Array): string {
  const result = validateSolicitationFrame(bytes, 0, bytes.length, OWN_MAC);
  return result.ok ? 'ok' : result.reason;
}

/** `decode`'s outcome as a short key: the error code, or `decoded`/`extra` for a value. */
function outcome(decode: () => unknown, allowed: typeof WireError | typeof RtnetlinkError, describe: (value: unknown) => string): string {
  try {
    return describe(decode());
  } catch (error) {
    if (error instanceof allowed) return `error:${error.code}`;
    throw error;
  }
}

function describeSolicitation(value: unknown): string {
  const frame = value as ReturnType<typeof decodeSolicitationFrame>;
  return `decoded:${toHex(frame.solicitation.target)}:${frame.solicitation.options.length}:${frame.icmpLength}:${frame.checksumValid}`;
}

/** The frame copied into a larger buffer at a random offset, with random bytes after it. */
function embed(random: Random, bytes: Uint8Array): { buffer: Uint8Array; offset: number } {
  const offset = random(8);
  const buffer = randomBytes(random, offset + bytes.length + random(24));
  buffer.set(bytes, offset);
  return { buffer, offset };
}

/** The failure again with a stack trace: the run itself may have them off (they dominate its cost). */
function withStack(check: () => void, first: unknown): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 12;
  try {
    check();
    return `${String(first)} (did not recur on replay)`;
  } catch (error) {
    return String((error as Error)?.stack ?? error);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

class Run {
  readonly outcomes = new Map<string, number>();
  readonly failures: FuzzFailure[] = [];
  constructor(readonly seed: number) {}

  count(key: string): void {
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
  }

  /** Run `check`; any exception is recorded as a failure of `decoder` on `input`. */
  guard(decoder: string, index: number, input: Uint8Array, check: () => void): void {
    try {
      check();
    } catch (error) {
      if (this.failures.length < MAX_FAILURES) {
        this.failures.push({ decoder, seed: this.seed, index, input: toHex(input), problem: withStack(check, error) });
      }
    }
  }

  frame(random: Random, index: number): void {
    const bytes = fuzzFrame(random, index);
    const { buffer, offset } = embed(random, bytes);
    this.guard('decodeSolicitationFrame', index, bytes, () => {
      const alone = outcome(() => decodeSolicitationFrame(bytes), WireError, describeSolicitation);
      const inside = outcome(() => decodeSolicitationFrame(buffer, offset, bytes.length), WireError, describeSolicitation);
      if (alone !== inside) throw new Error(`standalone ${alone} but embedded at ${offset} ${inside}: reads outside its frame`);
      this.count(`ns ${alone.startsWith('error:') ? alone : 'decoded'}`);
    });
    this.guard('validateSolicitation', index, bytes, () => {
      const alone = validateSolicitation(bytes, 0, bytes.length, OWN_MAC, view) ?? 'ok';
      const inside = validateSolicitation(buffer, offset, bytes.length, OWN_MAC, view) ?? 'ok';
      if (alone !== inside) throw new Error(`standalone ${alone} but embedded at ${offset} ${inside}: reads outside its frame`);
      const reference = referenceVerdict(bytes);
      if (alone !== reference) throw new Error(`${alone}, but the oracle says ${reference}`);
      this.count(`validate ${alone}`);
    });
    this.guard('decodeAdvertisementFrame', index, bytes, () => {
      this.count(`na ${outcome(() => decodeAdvertisementFrame(bytes), WireError, () => 'decoded')}`);
    });
  }

  datagram(random: Random, index: number): void {
    const bytes = fuzzDatagram(random, index);
    this.guard('decodeNetlinkDatagram', index, bytes, () => {
      this.count(`netlink ${outcome(() => decodeNetlinkDatagram(bytes), RtnetlinkError, () => 'decoded')}`);
    });
  }
}

/** Feed `count` frames and `count` rtnetlink datagrams from `seed` through the decoders. */
export function fuzzDecoders(count: number, seed: number): FuzzReport {
  const run = new Run(seed);
  const frames = seededRandom(seed);
  const datagrams = seededRandom(seed ^ 0x5bd1e995);
  const begin = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    run.frame(frames, i);
    run.datagram(datagrams, i);
  }
  const ms = Number(process.hrtime.bigint() - begin) / 1e6;
  return { frames: count, datagrams: count, outcomes: run.outcomes, failures: run.failures, ms };
}

/** Replay one recorded input through every decoder; returns the validation verdict (`ok` or the reason). */
export function replayFrame(hexInput: string): string {
  const bytes = Uint8Array.from(Buffer.from(hexInput.replace(/\s+/g, ''), 'hex'));
  for (const decode of [decodeSolicitationFrame, decodeAdvertisementFrame]) {
    try {
      decode(bytes);
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
    }
  }
  return validateSolicitation(bytes, 0, bytes.length, OWN_MAC, view) ?? 'ok';
}
