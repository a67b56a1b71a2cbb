/**
 * The load generator: sends the plan's NS frames in batches (sendmmsg, qdisc bypass) at a
 * paced rate, receives NAs on the same interface and credits them to their probes. Send
 * times come from the kernel's software TX timestamps (SO_TIMESTAMPING, read from the error
 * queue of the send-only socket); receive times from SO_TIMESTAMPNS; both CLOCK_REALTIME.
 */
import { performance } from 'node:perf_hooks';
import { advertisementFilter } from '../wire/bpf';
import {
  META_WORDS,
  enableTxTimestamps,
  now,
  openPacketSocket,
  readTxTimestamps,
  setReceiveBuffer,
  type NativeError,
  type PacketSocket,
} from '../io/native';
import { AnswerMatcher } from './matcher';
import type { ProbePlan } from './probe-plan';

/** Frames per sendmmsg call: large enough to amortise the crossing, small enough to pace. */
const SEND_BATCH = 256;
/** Sleep with a timer rather than spin when the next frame is further away than this. */
const SPIN_BELOW_MS = 2;
const RECEIVE_BUFFER = 32 << 20;
const ERROR_QUEUE_BUFFER = 64 << 20;
const PROGRESS_MS = 250;

/** What to run. */
export interface GeneratorOptions {
  ifindex: number;
  plan: ProbePlan;
  count: number;
  /** NS per second; 0 = as fast as possible. */
  rate: number;
  durationMs: number;
  /** After the last send, wait this long for late answers (ends early when all are in); default 1000. */
  lingerMs?: number;
  onProgress?: (sent: number, answered: number, elapsedMs: number) => void;
  /** Called just before the first send and just after the last (before the wait for late answers). */
  onSendPhase?: (edge: 'start' | 'end') => void;
}

/** Raw outcome of a run, before it is summarised. */
export interface GeneratorOutcome {
  sent: number;
  sendSeconds: number;
  answered: number;
  /** Of `answered`, those received after the last send: not part of the sending window's rate. */
  answeredAfterWindow: number;
  unmatched: number;
  /** Latency of every answered probe, µs, unsorted. */
  latenciesUs: Float64Array;
  sendTimestamps: 'kernel' | 'user';
  sendTimestampsMissing: number;
  receiveDrops: number;
  stoppedBy: 'count' | 'duration';
}

/** One run: owns both sockets and the per-send arrays. */
class Run {
  private readonly matcher: AnswerMatcher;
  private readonly txNs: Float64Array;
  private readonly userTxNs: Float64Array;
  private readonly lengths = new Uint32Array(SEND_BATCH);
  private readonly reports = new Uint32Array(3 * 4096);
  private readonly baseSec = now().sec;
  private readonly rx: PacketSocket;
  private readonly tx: PacketSocket;
  private readonly kernelTx: boolean;
  private sent = 0;
  private start = 0;
  private lastSend = 0;
  /** The last send, on the receive timestamps' clock (relative ns). */
  private lastSendNs = 0;
  private failure: NativeError | undefined;

  constructor(private readonly options: GeneratorOptions) {
    this.matcher = new AnswerMatcher(options.plan, options.count);
    this.txNs = new Float64Array(options.count).fill(Number.NaN);
    this.userTxNs = new Float64Array(options.count);
    this.lengths.fill(options.plan.frameLength);
    this.rx = openPacketSocket({
      ifindex: options.ifindex,
      filter: advertisementFilter(),
      batch: 256,
      slotSize: 2048,
      onFrames: (data, count, meta) => this.onFrames(data, count, meta),
      onError: (error) => (this.failure = error),
    });
    setReceiveBuffer(this.rx, RECEIVE_BUFFER);
    this.tx = openPacketSocket({ ifindex: options.ifindex, filter: [], receive: false, qdiscBypass: true });
    this.kernelTx = this.tryKernelTimestamps();
  }

  private tryKernelTimestamps(): boolean {
    try {
      enableTxTimestamps(this.tx);
      setReceiveBuffer(this.tx, ERROR_QUEUE_BUFFER);
      return true;
    } catch {
      return false; // an old kernel: fall back to user-space send times, and say so in the report
    }
  }

  /** ns since the run's base second: exact in a double for months. */
  private relativeNs(sec: number, nsec: number): number {
    return (sec - this.baseSec) * 1e9 + nsec;
  }

  private onFrames(data: Buffer, count: number, meta: Uint32Array): void {
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const length = meta[i * META_WORDS] ?? 0;
      const rxNs = this.relativeNs(meta[i * META_WORDS + 2] ?? 0, meta[i * META_WORDS + 3] ?? 0);
      this.matcher.credit(data, offset, length, rxNs, this.sent);
      offset += length;
    }
  }

  /** Sends up to `due` frames in one sendmmsg; returns how many went out. */
  private sendSome(due: number): number {
    const { plan } = this.options;
    const first = this.sent % plan.probeCount;
    const frames = plan.frames.subarray(first * plan.frameLength, (first + due) * plan.frameLength);
    const t = now();
    const sent = this.tx.sendBatch(frames, this.lengths, due);
    this.lastSendNs = this.relativeNs(t.sec, t.nsec);
    this.userTxNs.fill(this.lastSendNs, this.sent, this.sent + sent);
    this.sent += sent;
    if (this.kernelTx) this.drainTimestamps();
    return sent;
  }

  private drainTimestamps(): void {
    for (;;) {
      const n = readTxTimestamps(this.tx, this.reports);
      for (let j = 0; j < n; j++) {
        const id = this.reports[j * 3] ?? 0;
        if (id < this.txNs.length) this.txNs[id] = this.relativeNs(this.reports[j * 3 + 1] ?? 0, this.reports[j * 3 + 2] ?? 0);
      }
      if (n * 3 < this.reports.length) return;
    }
  }

  /** Sends until count or duration is reached; resolves with what stopped it. */
  send(): Promise<'count' | 'duration'> {
    const { count, rate, durationMs } = this.options;
    this.start = performance.now();
    return new Promise((resolve, reject) => {
      const tick = (): void => {
        if (this.failure !== undefined) return reject(this.failure);
        const elapsed = performance.now() - this.start;
        if (this.sent >= count) return resolve('count');
        if (elapsed >= durationMs) return resolve('duration');
        const due = rate === 0 ? SEND_BATCH : Math.floor((rate * elapsed) / 1000) + 1 - this.sent;
        if (due > 0) {
          try {
            this.sendSome(Math.min(due, SEND_BATCH, count - this.sent));
          } catch (error) {
            return reject(error as Error);
          }
          this.lastSend = performance.now();
        }
        const wait = rate === 0 ? 0 : ((this.sent + 1) * 1000) / rate - (performance.now() - this.start);
        if (wait > SPIN_BELOW_MS) setTimeout(tick, Math.min(wait - 1, durationMs));
        else setImmediate(tick);
      };
      tick();
    });
  }

  /** Waits for late answers: until all are in or `lingerMs` has passed. */
  async linger(lingerMs: number): Promise<void> {
    const until = performance.now() + lingerMs;
    while (this.matcher.answered < this.sent && performance.now() < until && this.failure === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (this.kernelTx) this.drainTimestamps();
  }

  progress(): [number, number, number] {
    return [this.sent, this.matcher.answered, performance.now() - this.start];
  }

  outcome(stoppedBy: 'count' | 'duration'): GeneratorOutcome {
    const latencies = new Float64Array(this.matcher.answered);
    let missing = 0;
    let late = 0;
    let n = 0;
    for (let seq = 0; seq < this.sent; seq++) {
      const rx = this.matcher.received[seq] ?? Number.NaN;
      if (Number.isNaN(rx)) continue;
      if (rx > this.lastSendNs) late++;
      let tx = this.txNs[seq] ?? Number.NaN;
      if (Number.isNaN(tx)) {
        tx = this.userTxNs[seq] ?? 0;
        if (this.kernelTx) missing++;
      }
      latencies[n++] = (rx - tx) / 1000;
    }
    return {
      sent: this.sent,
      sendSeconds: Math.max(0, (this.lastSend - this.start) / 1000),
      answered: this.matcher.answered,
      answeredAfterWindow: late,
      unmatched: this.matcher.unmatched,
      latenciesUs: latencies.subarray(0, n),
      sendTimestamps: this.kernelTx ? 'kernel' : 'user',
      sendTimestampsMissing: missing,
      receiveDrops: this.rx.fd >= 0 ? this.rx.statistics().drops : 0,
      stoppedBy,
    };
  }

  close(): void {
    this.rx.close();
    this.tx.close();
  }
}

/** Runs the generator once; sockets are closed whatever happens. */
export async function runGenerator(options: GeneratorOptions): Promise<GeneratorOutcome> {
  const run = new Run(options);
  const timer = options.onProgress === undefined ? undefined : setInterval(() => options.onProgress?.(...run.progress()), PROGRESS_MS);
  try {
    options.onSendPhase?.('start');
    const stoppedBy = await run.send();
    options.onSendPhase?.('end');
    await run.linger(options.lingerMs ?? 1000);
    return run.outcome(stoppedBy);
  } finally {
    if (timer !== undefined) clearInterval(timer);
    run.close();
  }
}
