import { ANNOUNCE_COUNT, ANNOUNCE_INTERVAL_MS, announcementFrame } from '../core/announcement';
import type { Target } from '../model/target';
import type { Logger } from '../io/log';
import { formatIpv6 } from '../wire/address';
import { encodeSolicitationFrame } from '../wire/frame';

/** What the announcer needs from the daemon, looked up at each send (the uplink may change). */
export interface AnnouncerPort {
  uplinkMac(): Uint8Array | undefined;
  router(): Promise<Uint8Array | undefined>;
  send(frame: Uint8Array): boolean;
}

/** Most addresses being announced at once; more are skipped (a bounded table). */
const MAX_PENDING = 1024;

/**
 * `--announce`: for each new single-address target, up to 3 NS from that address to the
 * router's solicited-node group, 1 s apart, so the router learns it before the first packet.
 */
export class Announcer {
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly port: AnnouncerPort,
    private readonly log: Logger,
  ) {}

  /** Start announcing `target` (single addresses only); restarts if already pending. */
  announce(target: Target): void {
    if (target.prefixLength !== 128) return;
    this.cancel(target.text);
    if (this.pending.size >= MAX_PENDING) return;
    this.step(target, 0);
  }

  /** Stop announcing a target that went away. */
  cancel(text: string): void {
    clearTimeout(this.pending.get(text));
    this.pending.delete(text);
  }

  /** Stop everything. */
  stop(): void {
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }

  private step(target: Target, sent: number): void {
    const timer = setTimeout(() => void this.send(target, sent), sent === 0 ? 0 : ANNOUNCE_INTERVAL_MS);
    timer.unref();
    this.pending.set(target.text, timer);
  }

  private async send(target: Target, sent: number): Promise<void> {
    const mac = this.port.uplinkMac();
    const router = await this.port.router().catch(() => undefined);
    if (!this.pending.has(target.text)) return;
    if (mac === undefined || router === undefined) {
      this.pending.delete(target.text);
      this.log.debug({ target: target.text }, 'no router on the uplink to announce to');
      return;
    }
    const ok = this.port.send(encodeSolicitationFrame(announcementFrame(target.address, router, mac)));
    this.log.info({ target: target.text, router: formatIpv6(router), count: sent + 1, ok }, 'announced');
    if (sent + 1 < ANNOUNCE_COUNT) this.step(target, sent + 1);
    else this.pending.delete(target.text);
  }
}
