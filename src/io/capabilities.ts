import { readFileSync } from 'node:fs';

/** Effective capability set of this process (CapEff of /proc/self/status); 0 when unreadable. */
export function effectiveCapabilities(): bigint {
  try {
    const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match === null ? 0n : BigInt(`0x${match[1]}`);
  } catch {
    return 0n;
  }
}
