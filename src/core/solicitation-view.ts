/**
 * A received solicitation as the pipeline sees it: offsets into the receive buffer, never
 * copies. One view is reused for every frame; validation fills it, the decision, the answer
 * gate, the NA writer and the debug observer read it.
 */
import { ETHERNET_HEADER_LENGTH } from '../wire/ethernet';

/** Offsets into the receive buffer of where each part of one frame lies, filled by validate.ts's validateSolicitation. */
export class SolicitationView {
  /** Start and end of the frame. */
  frame = 0;
  end = 0;
  /** The IPv6 header, and the end of the payload it declares. */
  ip = 0;
  payloadEnd = 0;
  /** The ICMPv6 message and its length, once the header chain is read; -1 before. */
  icmp = -1;
  icmpLength = 0;
  /** The target address, once the message is long enough to hold one; -1 before. */
  target = -1;
  /** The first 6-byte Source Link-Layer Address (RFC 4861 §4.6.1), or -1 when there is none. */
  sourceLinkLayerAddress = -1;
  /** True for a Duplicate Address Detection probe (source ::, RFC 4862 §5.4.2); set once valid. */
  duplicateAddressDetection = false;

  /** The Ethernet source MAC: the answer's destination when there is no SLLA. */
  get ethernetSource(): number {
    return this.frame + 6;
  }

  /** The IPv6 source address: the answer's destination unless the probe is DAD. */
  get source(): number {
    return this.ip + 8;
  }

  /** Forget the previous frame; `frame` and `end` bound every read of this one. */
  reset(offset: number, length: number): void {
    this.frame = offset;
    this.end = offset + length;
    this.ip = offset + ETHERNET_HEADER_LENGTH;
    this.payloadEnd = this.end;
    this.icmp = -1;
    this.icmpLength = 0;
    this.target = -1;
    this.sourceLinkLayerAddress = -1;
    this.duplicateAddressDetection = false;
  }
}
