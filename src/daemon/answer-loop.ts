/**
 * The hot loop: each received batch goes through the core's answer pipeline and the answers
 * leave in one sendmmsg. Owns the preallocated pipeline state; the daemon hands it frames.
 */
import { performance } from 'node:perf_hooks';
import { RateLimitGate } from '../core/answer-gate';
import type { DecisionContext } from '../core/decide';
import { DEFAULT_RATE_LIMITS, type RateLimitSettings } from '../core/rate-limit';
import { FastResponder, warmUpFastResponder } from '../core/fast-responder';
import { OutputBatch, processBatch, warmUpResponder, type DecisionObserver } from '../core/responder';
import { now, type NativeError } from '../io/native';
import type { Logger } from '../io/log';
import { ResponderCounters } from '../model/counters';
import { formatIpv6 } from '../wire/address';

const RECEIVE_BATCH = 64;

/** Sends a batch of frames; returns how many left. */
export type SendBatch = (bytes: Uint8Array, lengths: Uint32Array, count: number) => number;

/** Receives batches, answers through the core, sends, counts. */
export class AnswerLoop {
  readonly counters = new ResponderCounters();
  private readonly out = new OutputBatch(RECEIVE_BATCH);
  private readonly fast = new FastResponder();
  /** Called with the receive-to-send latency in seconds of each batch that was answered (metrics). */
  onAnswered: ((seconds: number) => void) | undefined;

  constructor(
    private readonly context: DecisionContext,
    readonly gate: RateLimitGate,
    private readonly send: SendBatch,
    private readonly log: Logger,
  ) {}

  /** Run synthetic solicitations for `target` through the path so V8 has optimised it before the first real frame. */
  warmUp(target: Uint8Array | undefined, rateLimits: RateLimitSettings | undefined): void {
    if (target === undefined) return;
    // The warm-up's synthetic solicitations must neither spend tokens nor count as DAD conflicts.
    this.gate.bypass = true;
    // The reference path only runs at debug level; its warm-up allocates ~30 MB of garbage,
    // which grows the young generation (RSS) for good, so it is skipped otherwise.
    if (this.log.isLevelEnabled('debug')) warmUpResponder(this.context, target);
    const spareGate = new RateLimitGate(rateLimits ?? DEFAULT_RATE_LIMITS, performance.now());
    warmUpFastResponder(this.fast, this.context, target, 20_000, spareGate);
    this.gate.bypass = false;
  }

  /** One received batch: `count` frames back to back in `data`, four meta words each. */
  onFrames(data: Uint8Array, count: number, meta: Uint32Array): void {
    const observe = this.log.isLevelEnabled('debug') ? this.observer() : undefined;
    this.gate.nowMs = performance.now();
    const out = this.out;
    const counters = this.counters;
    // The fast path makes the same decisions without allocating; the reference path feeds debug logs.
    const queued =
      observe === undefined
        ? this.fast.process(data, count, meta, this.context, out, counters)
        : processBatch(data, count, meta, this.context, out, counters, observe);
    if (queued > 0) {
      try {
        const sent = this.send(out.bytes, out.lengths, out.count);
        counters.advertised += sent;
        if (observe !== undefined || this.onAnswered !== undefined) {
          const latencyUs = receiveToSendMicros(meta);
          this.onAnswered?.(latencyUs / 1e6);
          if (observe !== undefined) this.log.debug({ latencyUs }, 'SENT');
        }
        counters.sendFailures += out.count - sent;
      } catch (error) {
        counters.sendFailures += out.count;
        this.log.debug({ code: (error as NativeError).code }, 'SEND-FAILED');
      }
    }
    out.reset();
  }

  private observer(): DecisionObserver {
    return (ns, decision) => {
      const who = ns === undefined ? undefined : `who-has ${formatIpv6(ns.target)} tell ${formatIpv6(ns.source)}`;
      if (decision.action === 'ignore') this.log.debug({ ns: who, reason: decision.reason }, 'IGNORE');
      else this.log.debug({ ns: who, target: decision.target.text, to: formatIpv6(decision.frame.ipv6Destination), solicited: decision.frame.advertisement.solicited }, 'RESPOND');
    };
  }
}

/** Microseconds from the kernel's receive timestamp of the batch's first frame to now. */
function receiveToSendMicros(meta: Uint32Array): number {
  const t = now();
  return Math.round(((t.sec - meta[2]!) * 1e9 + (t.nsec - meta[3]!)) / 1000);
}
