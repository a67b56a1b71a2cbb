import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimitGate } from '../../src/core/answer-gate';
import { flowKey } from '../../src/core/flow-key';
import { AnswerRateLimiter, DEFAULT_RATE_LIMITS, NO_FLOW_LIMIT, type RateLimitSettings } from '../../src/core/rate-limit';
import { BUCKET_SLOTS, fillBucket, takeToken, type Rate } from '../../src/core/token-bucket';
import { SolicitationView } from '../../src/core/solicitation-view';
import { validateSolicitation } from '../../src/core/validate';
import { multicastMac, parseIpv6, solicitedNodeAddress } from '../../src/wire/address';
import { encodeSolicitationFrame } from '../../src/wire/frame';

const settings = (perSource: number, global: number, maxSources = 4): RateLimitSettings => ({
  ...NO_FLOW_LIMIT,
  perSource: { perSecond: perSource, burst: perSource * 2 },
  global: { perSecond: global, burst: global * 2 },
  maxSources,
});

function admitted(limiter: AnswerRateLimiter, key: string, count: number, nowMs: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) if (limiter.admit(key, nowMs)) n++;
  return n;
}

/** One bucket in its own slots, starting full at `nowMs`; `take(t)` takes a token at time t. */
function bucket(rate: Rate, nowMs: number): { take(t: number): boolean } {
  const slots = new Float64Array(BUCKET_SLOTS);
  const clock = Float64Array.of(nowMs);
  fillBucket(slots, 0, rate, clock);
  return {
    take(t: number): boolean {
      clock[0] = t;
      return takeToken(slots, 0, rate, clock);
    },
  };
}

describe('the token-bucket rule', () => {
  test('starts full, refills at the rate, never above the burst', () => {
    const b = bucket({ perSecond: 10, burst: 3 }, 0);
    assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
    assert.equal(b.take(50), false, 'half a token after 50 ms');
    assert.equal(b.take(100), true, 'one token after 100 ms');
    const rested = bucket({ perSecond: 10, burst: 3 }, 0);
    let n = 0;
    for (let i = 0; i < 10; i++) if (rested.take(60_000)) n++;
    assert.equal(n, 3, 'a minute idle still gives only the burst');
  });

  test('a clock going backwards adds nothing and breaks nothing', () => {
    const b = bucket({ perSecond: 10, burst: 1 }, 1000);
    assert.equal(b.take(1000), true);
    assert.equal(b.take(500), false);
    assert.equal(b.take(1100), true, 'refill resumes from the last forward time');
  });

  test('rate 0 means no limit', () => {
    const b = bucket({ perSecond: 0, burst: 1 }, 0);
    for (let i = 0; i < 1000; i++) assert.equal(b.take(0), true);
  });
});

describe('AnswerRateLimiter', () => {
  test('one source is capped at burst then rate; another source is not affected', () => {
    const limiter = new AnswerRateLimiter(settings(100, 10_000), 0);
    assert.equal(admitted(limiter, 'a', 2000, 0), 200, 'burst of 200');
    assert.equal(admitted(limiter, 'a', 2000, 1000), 100, 'then 100 per second');
    assert.equal(admitted(limiter, 'b', 10, 1000), 10, 'b has its own bucket');
  });

  test('the global bucket caps all sources together', () => {
    const limiter = new AnswerRateLimiter({ ...settings(100, 50), maxSources: 1000 }, 0);
    let total = 0;
    for (let s = 0; s < 100; s++) total += admitted(limiter, `s${s}`, 5, 0);
    assert.equal(total, 100, 'global burst 100');
  });

  test('the source table is bounded; the least recently seen source is evicted', () => {
    const limiter = new AnswerRateLimiter(settings(1, 1000, 3), 0);
    for (const key of ['a', 'b', 'c']) assert.equal(admitted(limiter, key, 5, 0), 2);
    admitted(limiter, 'a', 1, 0); // touch a: b is now the oldest
    admitted(limiter, 'd', 1, 0);
    assert.equal(limiter.trackedSources, 3);
    assert.equal(admitted(limiter, 'a', 1, 0), 0, 'a kept its empty bucket');
    assert.equal(admitted(limiter, 'b', 5, 0), 2, 'b was forgotten and starts full');
    for (let i = 0; i < 10_000; i++) limiter.admit(`k${i}`, 0);
    assert.equal(limiter.trackedSources, 3, 'a flood of sources never grows the table');
  });

  test('configure swaps the limits and forgets the sources', () => {
    const limiter = new AnswerRateLimiter(settings(1, 1000), 0);
    admitted(limiter, 'a', 5, 0);
    limiter.configure(settings(10, 1000), 0);
    assert.equal(limiter.trackedSources, 0);
    assert.equal(admitted(limiter, 'a', 50, 0), 20);
  });
});

describe('RateLimitGate', () => {
  /** A valid NS from fe80::`source` (or a DAD probe) for 2001:db8::5, with its view. */
  const ns = (source: number, dad = false): [Uint8Array, SolicitationView] => {
    const target = parseIpv6('2001:db8::5');
    const group = solicitedNodeAddress(target);
    const frame = encodeSolicitationFrame({
      ethernetDestination: multicastMac(group),
      ethernetSource: Uint8Array.of(2, 0, 0, 0, 0, source),
      ipv6Source: dad ? parseIpv6('::') : parseIpv6(`fe80::${source}`),
      ipv6Destination: group,
      hopLimit: 255,
      solicitation: { target, options: [] },
    });
    const view = new SolicitationView();
    assert.equal(validateSolicitation(frame, 0, frame.length, undefined, view), undefined);
    return [frame, view];
  };

  test('keys by IPv6 source, uses the time set per batch, reports DAD probes', () => {
    const dads: number[] = [];
    const gate = new RateLimitGate(settings(1, 1000), 0, (target) => dads.push(target[15]!));
    assert.deepEqual([gate.admit(...ns(1)), gate.admit(...ns(1)), gate.admit(...ns(1))], [true, true, false]);
    assert.equal(gate.admit(...ns(2)), true);
    gate.nowMs = 1000;
    assert.equal(gate.admit(...ns(1)), true, 'refilled when the batch time moved on');
    gate.admit(...ns(0, true));
    assert.deepEqual(dads, [5]);
  });

  test('bypass lets everything through and reports nothing (start-up warm-up)', () => {
    const dads: number[] = [];
    const gate = new RateLimitGate(settings(1, 1), 0, (target) => dads.push(target[15]!));
    gate.bypass = true;
    for (let i = 0; i < 100; i++) assert.equal(gate.admit(...ns(1, true)), true);
    assert.deepEqual(dads, []);
    assert.equal(gate.limiter.trackedSources, 0);
  });
});

/** Source and target of one NS, laid out as in a frame: source at 0, target at 16. */
function pair(source: string, target: string): Uint8Array {
  const bytes = new Uint8Array(32);
  bytes.set(parseIpv6(source), 0);
  bytes.set(parseIpv6(target), 16);
  return bytes;
}

describe('flow keys', () => {
  const seed = Uint32Array.of(1, 2, 3, 4);
  const key = (bytes: Uint8Array, s = seed): string => {
    const out = new Uint8Array(16);
    flowKey(s, bytes, 0, 16, out);
    return Buffer.from(out).toString('hex');
  };
  test('one key per (source, target) pair: order matters, every byte counts, the seed changes them all', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 2000; i++) keys.add(key(pair('2001:db8::1', `2001:db8::d:${i.toString(16)}`)));
    for (let i = 0; i < 2000; i++) keys.add(key(pair(`2001:db8::1:${i.toString(16)}`, '2001:db8::d:1')));
    assert.equal(keys.size, 4000, 'every pair has its own key');
    assert.notEqual(key(pair('2001:db8::1', '2001:db8::2')), key(pair('2001:db8::2', '2001:db8::1')));
    assert.equal(key(pair('2001:db8::1', '2001:db8::2')), key(pair('2001:db8::1', '2001:db8::2')));
    assert.notEqual(key(pair('2001:db8::1', '2001:db8::2')), key(pair('2001:db8::1', '2001:db8::2'), Uint32Array.of(1, 2, 3, 5)));
  });
});

describe('default answer limits (RFC 4861 §7.2.2, §7.3.3: at most 3 NS per target per RetransTimer)', () => {
  const admit = (limiter: AnswerRateLimiter, bytes: Uint8Array, nowMs: number): boolean => {
    limiter.clock[0] = nowMs;
    return limiter.admitFlowAtClock(bytes, 0, 16);
  };
  test('one router resolving 5000 targets at once, 3 tries each 1 s apart: every NS answered', () => {
    const limiter = new AnswerRateLimiter(DEFAULT_RATE_LIMITS, 0, Uint32Array.of(9, 8, 7, 6));
    let refused = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5000; i++) if (!admit(limiter, pair('2001:db8::1', `2001:db8::d:${i.toString(16)}`), round * 1000)) refused++;
    }
    assert.equal(refused, 0);
  });
  test('a flood of one flow gets its burst then its rate; the same source asking for other targets is untouched', () => {
    const limiter = new AnswerRateLimiter(DEFAULT_RATE_LIMITS, 0, Uint32Array.of(9, 8, 7, 6));
    const flood = pair('2001:db8::66', '2001:db8::d:1');
    let answered = 0;
    for (let ms = 0; ms < 1000; ms++) for (let i = 0; i < 100; i++) if (admit(limiter, flood, ms)) answered++;
    assert.ok(answered >= 29 && answered <= 30, `100 000 NS in 1 s: burst 20 + 10/s, got ${answered}`);
    for (let i = 0; i < 100; i++) assert.equal(admit(limiter, pair('2001:db8::66', `2001:db8::e:${i.toString(16)}`), 1000), true, 'other flows of the flooding source');
    assert.equal(admit(limiter, pair('2001:db8::1', '2001:db8::d:1'), 1000), true, 'another source asking for the flooded target');
  });
  test('a random-source flood fills the bounded flow table and refuses nobody: a forgotten flow returns with a full bucket', () => {
    const limiter = new AnswerRateLimiter(DEFAULT_RATE_LIMITS, 0, Uint32Array.of(9, 8, 7, 6));
    const router = (i: number): Uint8Array => pair('2001:db8::1', `2001:db8::d:${i.toString(16)}`);
    let refused = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20_000; i++) admit(limiter, pair(`2001:db8::${(round * 20_000 + i).toString(16)}:1`, '2001:db8::d:ffff'), round * 1000);
      for (let i = 0; i < 1000; i++) if (!admit(limiter, router(i), round * 1000 + 1)) refused++;
    }
    assert.equal(refused, 0);
    assert.equal(limiter.trackedFlows, DEFAULT_RATE_LIMITS.maxFlows, 'the table is full and stays bounded');
  });
});
