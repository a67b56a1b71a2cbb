/**
 * Matches received Neighbour Advertisements to the probes that asked for them. Pure and
 * allocation-free per frame: the receive path runs at the generator's full rate.
 *
 * An NA carries no sequence number, only its target and destination, so repeated probes
 * with the same key are matched first-in first-out: an answer is credited to the oldest
 * unanswered send of its key. With one key and a responder that drops or reorders answers
 * (the kernel's random proxy_delay), latencies are then upper bounds; more distinct keys
 * (`--sources pool:N`, several targets) make the pairing exact.
 */
import { IPV6_ADDRESS_LENGTH } from '../wire/address';
import { KEY_LENGTH, type ProbePlan } from './probe-plan';

/** Offsets in an Ethernet frame carrying IPv6 + ICMPv6 with no extension header. */
const OFFSET_ETHERTYPE = 12;
const OFFSET_NEXT_HEADER = 20;
const OFFSET_DESTINATION = 38;
const OFFSET_ICMP = 54;
const OFFSET_TARGET = OFFSET_ICMP + 8;
const MIN_NA_FRAME = OFFSET_TARGET + IPV6_ADDRESS_LENGTH;
const ICMPV6 = 58;
const NEIGHBOR_ADVERTISEMENT = 136;

/** Open-addressing table from (target, destination) to probe index. */
export class ProbeIndex {
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(private readonly keys: Uint8Array) {
    const count = keys.length / KEY_LENGTH;
    let size = 16;
    while (size < count * 2) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    for (let probe = 0; probe < count; probe++) {
      let slot = this.hash(keys, probe * KEY_LENGTH, probe * KEY_LENGTH + IPV6_ADDRESS_LENGTH);
      while (this.slots[slot] !== -1) slot = (slot + 1) & this.mask;
      this.slots[slot] = probe;
    }
  }

  /** The probe whose target is at `targetAt` and destination at `destinationAt` in `bytes`, or -1. */
  find(bytes: Uint8Array, targetAt: number, destinationAt: number): number {
    let slot = this.hash(bytes, targetAt, destinationAt);
    for (;;) {
      const probe = this.slots[slot] ?? -1;
      if (probe === -1) return -1;
      if (this.equals(probe, bytes, targetAt, destinationAt)) return probe;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Mixes the low 8 bytes of the target and of the destination (where plans differ). */
  private hash(bytes: Uint8Array, targetAt: number, destinationAt: number): number {
    let h = 0x811c9dc5;
    for (let i = 8; i < IPV6_ADDRESS_LENGTH; i++) {
      h = Math.imul(h ^ (bytes[targetAt + i] ?? 0), 0x01000193);
      h = Math.imul(h ^ (bytes[destinationAt + i] ?? 0), 0x01000193);
    }
    return (h ^ (h >>> 15)) & this.mask;
  }

  private equals(probe: number, bytes: Uint8Array, targetAt: number, destinationAt: number): boolean {
    const at = probe * KEY_LENGTH;
    for (let i = 0; i < IPV6_ADDRESS_LENGTH; i++) {
      if (this.keys[at + i] !== bytes[targetAt + i]) return false;
      if (this.keys[at + IPV6_ADDRESS_LENGTH + i] !== bytes[destinationAt + i]) return false;
    }
    return true;
  }
}

/** Credits answers to sends: rx times by send sequence, plus what could not be credited. */
export class AnswerMatcher {
  /** Receive time (ns since the run's base) per send sequence; NaN while unanswered. */
  readonly received: Float64Array;
  /** NAs that matched no sent, unanswered probe (foreign targets, duplicates, other hosts). */
  unmatched = 0;
  /** Answers credited. */
  answered = 0;
  private readonly index: ProbeIndex;
  private readonly answeredPerProbe: Uint32Array;
  private readonly probeCount: number;

  constructor(plan: ProbePlan, capacity: number) {
    this.index = new ProbeIndex(plan.keys);
    this.probeCount = plan.probeCount;
    this.answeredPerProbe = new Uint32Array(plan.probeCount);
    this.received = new Float64Array(capacity).fill(Number.NaN);
  }

  /**
   * Credits one received frame (any frame: non-NAs count as unmatched) received at `rxNs`,
   * when `sent` probes have gone out; returns the send sequence credited, or -1.
   */
  credit(bytes: Uint8Array, offset: number, length: number, rxNs: number, sent: number): number {
    if (
      length < MIN_NA_FRAME ||
      bytes[offset + OFFSET_ETHERTYPE] !== 0x86 ||
      bytes[offset + OFFSET_ETHERTYPE + 1] !== 0xdd ||
      bytes[offset + OFFSET_NEXT_HEADER] !== ICMPV6 ||
      bytes[offset + OFFSET_ICMP] !== NEIGHBOR_ADVERTISEMENT
    ) {
      this.unmatched++;
      return -1;
    }
    const probe = this.index.find(bytes, offset + OFFSET_TARGET, offset + OFFSET_DESTINATION);
    if (probe === -1) {
      this.unmatched++;
      return -1;
    }
    const times = this.answeredPerProbe[probe] ?? 0;
    const sequence = probe + times * this.probeCount;
    if (sequence >= sent || sequence >= this.received.length) {
      this.unmatched++; // more answers than probes of this key
      return -1;
    }
    this.answeredPerProbe[probe] = times + 1;
    this.received[sequence] = rxNs;
    this.answered++;
    return sequence;
  }
}
