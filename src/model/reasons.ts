/**
 * The closed list of reasons a received frame is not answered.
 * Logs (`IGNORE reason=…`) and metrics (`reason` label) share exactly these names.
 */
export const IGNORE_REASONS = [
  // Structural: the frame could not be decoded as a Neighbour Solicitation.
  'malformed',
  'own-frame',
  // RFC 4861 §7.1.1 validity checks, and RFC 6980 for fragments.
  'bad-hop-limit',
  'bad-code',
  'bad-checksum',
  'too-short',
  'fragmented',
  'multicast-target',
  'multicast-source',
  'bad-option-length',
  'dad-bad-destination',
  'dad-with-slla',
  // Decisions: a valid solicitation that is not ours to answer.
  'not-a-target',
  'link-local-target',
  'own-address',
  'route-via-uplink',
  'route-not-via',
  'no-route',
  'link-down',
  'rate-limited',
] as const;

/** One reason from {@link IGNORE_REASONS}. */
export type IgnoreReason = (typeof IGNORE_REASONS)[number];
