/**
 * The hot loop: each received batch goes through the core's answer pipeline and the answers
 * leave in one sendmmsg. Owns the preallocated pipeline state; the daemon hands it frames.
 * Logging observes the pipeline and never steers it: at debug level an observer formats each
 * decision, and nothing else changes.
 */
import { performance } from 'node:perf_hooks';
import { RateLimitGate } from '../core/answer-gate';
import type { DecisionContext } from '../core/decide';
import { OutputBatch } from '../core/output-batch';
import { AnswerPipeline, type DecisionObserver } from '../core/pipeline';
import type { RateLimitSettings } from '../core/rate-limit';
import type { SolicitationView } from '../core/solicitation-view';
import { BUCKET_SLOTS, fillBucket, takeToken, type Rate } from '../core/token-bucket';
import { warmUpPipeline } from '../core/warm-up';
import { now, type NativeError } from '../io/native';
import type { Logger } from '../io/log';
import { ResponderCounters } from '../model/counters';
import type { IgnoreReason } from '../model/reasons';
import type { Target } from '../model/target';
import { formatIpv6 } from '../wire/address';

const RECEIVE_BATCH = 64;

/** Sends a batch of frames; returns how many left. */
export type SendBatch = (bytes: Uint8Array, lengths: Uint32Array, count: number) => number;

/** Receives batches, answers through the core, sends, counts. */
export class AnswerLoop {
  readonly counters = new ResponderCounters();
  private readonly out = new OutputBatch(RECEIVE_BATCH);
  private readonly pipeline = new AnswerPipeline();
  private readonly debugLines: DebugLines;
  /** Called with the receive-to-send latency in seconds of each batch that was answered (metrics). */
  onAnswered: ((seconds: number) => void) | undefined;

  constructor(
    private readonly context: DecisionContext,
    readonly gate: RateLimitGate,
    private readonly send: SendBatch,
    private readonly log: Logger,
  ) {
    this.debugLines = new DebugLines(log);
  }

  /** Run synthetic solicitations for `target` through the path so V8 has optimised it before the first real frame. */
  warmUp(target: Uint8Array | undefined, rateLimits: RateLimitSettings): void {
    if (target === undefined) return;
    // The warm-up's synthetic solicitations must neither spend tokens nor count as DAD conflicts.
    this.gate.bypass = true;
    const spareGate = new RateLimitGate(rateLimits, performance.now());
    warmUpPipeline(this.pipeline, this.context, target, 20_000, spareGate);
    this.gate.bypass = false;
  }

  /** One received batch: `count` frames back to back in `data`, four meta words each. */
  onFrames(data: Uint8Array, count: number, meta: Uint32Array): void {
    // The observer only formats debug lines: every level takes the same path to the same answers.
    const observer = this.log.isLevelEnabled('debug') ? this.debugLines : undefined;
    this.gate.nowMs = performance.now();
    const out = this.out;
    const counters = this.counters;
    const queued = this.pipeline.process(data, count, meta, this.context, out, counters, observer);
    if (queued > 0) {
      try {
        const sent = this.send(out.bytes, out.lengths, out.count);
        counters.advertised += sent;
        if (observer !== undefined || this.onAnswered !== undefined) {
          const latencyUs = receiveToSendMicros(meta);
          this.onAnswered?.(latencyUs / 1e6);
          if (observer !== undefined && this.debugLines.admit()) this.log.debug({ latencyUs }, 'SENT');
        }
        counters.sendFailures += out.count - sent;
      } catch (error) {
        counters.sendFailures += out.count;
        this.log.debug({ code: (error as NativeError).code }, 'SEND-FAILED');
      }
    }
    out.reset();
  }
}

/**
 * Per-frame debug lines written at most this often: a JSON line costs far more than an answer,
 * and a synchronous write to a slow sink would otherwise hold the answer loop under a flood.
 */
const DEBUG_LINES: Rate = { perSecond: 1000, burst: 2000 };

/**
 * The per-frame debug lines: `IGNORE` {ns, reason} and `RESPOND` {ns, target, to, solicited},
 * at most {@link DEBUG_LINES}; the next line written says how many were left out (`suppressed`).
 */
class DebugLines implements DecisionObserver {
  private readonly bucket = new Float64Array(BUCKET_SLOTS);
  private readonly clock = new Float64Array(1);
  private suppressed = 0;

  constructor(private readonly log: Logger) {
    this.clock[0] = performance.now();
    fillBucket(this.bucket, 0, DEBUG_LINES, this.clock);
  }

  /** See {@link DecisionObserver.ignored}. */
  ignored(bytes: Uint8Array, view: SolicitationView, reason: IgnoreReason): void {
    if (this.admit()) this.log.debug({ ns: whoHas(bytes, view), reason, ...this.takeSuppressed() }, 'IGNORE');
  }

  /** See {@link DecisionObserver.answered}. */
  answered(bytes: Uint8Array, view: SolicitationView, target: Target, to: Uint8Array, toOffset: number, solicited: boolean): void {
    if (this.admit()) this.log.debug({ ns: whoHas(bytes, view), target: target.text, to: formatIpv6(to, toOffset), solicited, ...this.takeSuppressed() }, 'RESPOND');
  }

  /** Whether one more line fits the budget now; counts the ones that do not. */
  admit(): boolean {
    this.clock[0] = performance.now();
    if (takeToken(this.bucket, 0, DEBUG_LINES, this.clock)) return true;
    this.suppressed++;
    return false;
  }

  private takeSuppressed(): { suppressed?: number } {
    if (this.suppressed === 0) return {};
    const suppressed = this.suppressed;
    this.suppressed = 0;
    return { suppressed };
  }
}

/** "who-has TARGET tell SOURCE", or undefined when the frame was rejected before its target was known. */
function whoHas(bytes: Uint8Array, view: SolicitationView): string | undefined {
  return view.target < 0 ? undefined : `who-has ${formatIpv6(bytes, view.target)} tell ${formatIpv6(bytes, view.source)}`;
}

/** Microseconds from the kernel's receive timestamp of the batch's first frame to now. */
function receiveToSendMicros(meta: Uint32Array): number {
  const t = now();
  return Math.round(((t.sec - meta[2]!) * 1e9 + (t.nsec - meta[3]!)) / 1000);
}
