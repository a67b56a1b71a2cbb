/**
 * Machine-wide CPU time from /proc/stat (and softirq counts from /proc/softirqs), read at the
 * start and end of a send phase. This is where the kernel's own answering shows: the in-kernel
 * fast path and proxy_ndp run in softirq context (the veth receive, inside the generator's
 * transmit), which no responder process's utime+stime holds.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** /proc/stat reports in USER_HZ, 100 on every Linux architecture the daemon runs on. */
export const USER_HZ = 100;

/** The aggregate `cpu` line of /proc/stat (all CPUs), USER_HZ ticks. */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

/** One reading: CPU times and the NET_RX / NET_TX softirqs raised so far, summed over CPUs. */
export interface MachineSample {
  cpu: CpuTimes;
  netRx?: number;
  netTx?: number;
}

/** A send phase: readings at its start and end, and its length on the generator's clock. */
export interface MachineWindow {
  seconds: number;
  before: MachineSample;
  after: MachineSample;
}

const FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** Parses the aggregate `cpu` line of /proc/stat; throws on anything else. */
export function parseProcStat(text: string): CpuTimes {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (line === undefined) throw new Error('/proc/stat: no aggregate cpu line');
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  if (values.length < FIELDS.length || values.some((v) => !Number.isFinite(v))) throw new Error(`/proc/stat: bad cpu line "${line}"`);
  const times = {} as CpuTimes;
  FIELDS.forEach((field, i) => (times[field] = values[i] ?? 0));
  return times;
}

/** The total of one /proc/softirqs row over every CPU; undefined when the row is missing. */
export function softirqCount(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.trim().startsWith(`${name}:`));
  if (line === undefined) return undefined;
  return line.trim().split(/\s+/).slice(1).map(Number).reduce((a, b) => a + b, 0);
}

/** Reads /proc/stat and /proc/softirqs now (they are machine-wide: any network namespace sees them). */
export function readMachine(): MachineSample {
  const cpu = parseProcStat(readFileSync('/proc/stat', 'utf8'));
  try {
    const softirqs = readFileSync('/proc/softirqs', 'utf8');
    const netRx = softirqCount(softirqs, 'NET_RX');
    const netTx = softirqCount(softirqs, 'NET_TX');
    return { cpu, ...(netRx === undefined ? {} : { netRx }), ...(netTx === undefined ? {} : { netTx }) };
  } catch {
    return { cpu };
  }
}

/** Machine-wide time in `fields` over the window per frame sent, µs (at 100k frames/s, 1 µs is 10 % of one core). */
export function perFrameMicroseconds(window: MachineWindow, fields: readonly (keyof CpuTimes)[], sent: number): number | undefined {
  if (sent <= 0) return undefined;
  const ticks = fields.reduce((sum, f) => sum + (window.after.cpu[f] - window.before.cpu[f]), 0);
  return ((ticks / USER_HZ) * 1e6) / sent;
}

/**
 * How this kernel accounts softirq time: `irq-time` (CONFIG_IRQ_TIME_ACCOUNTING, measured at
 * every softirq entry and exit) or `tick` (sampled by the scheduler tick, and then also charged
 * to whichever task the tick interrupted); undefined when the kernel's config is not readable.
 */
export function softirqAccounting(): 'irq-time' | 'tick' | undefined {
  const config = kernelConfig();
  if (config === undefined) return undefined;
  return /^CONFIG_IRQ_TIME_ACCOUNTING=y$/m.test(config) ? 'irq-time' : 'tick';
}

function kernelConfig(): string | undefined {
  try {
    return gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  } catch {
    try {
      const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
      return readFileSync(`/boot/config-${release}`, 'utf8');
    } catch {
      return undefined;
    }
  }
}
