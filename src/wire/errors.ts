/**
 * Typed decode/encode errors for the wire layer.
 *
 * Every codec bounds-checks before it reads and throws {@link WireError}, so
 * callers can tell a malformed frame (count and drop) from a programming bug
 * (any other exception).
 */

/** Closed list of reasons a codec rejects bytes or values. */
export type WireErrorCode =
  | 'truncated'
  | 'bad-version'
  | 'bad-length'
  | 'bad-option-length'
  | 'too-many-headers'
  | 'bad-address'
  | 'not-solicitation'
  | 'not-advertisement';

/** A malformed input, located by its byte offset in the buffer being decoded. */
export class WireError extends Error {
  /** Machine-readable reason, stable for logs and metrics. */
  readonly code: WireErrorCode;
  /** Byte offset (into the caller's buffer) where the problem was found. */
  readonly offset: number;

  /** Builds an error whose message names the code and the offset. */
  constructor(code: WireErrorCode, offset: number, detail?: string) {
    super(`${code} at offset ${offset}${detail === undefined ? '' : `: ${detail}`}`);
    this.name = 'WireError';
    this.code = code;
    this.offset = offset;
  }
}

/**
 * Throws 'truncated' unless `bytes` holds `need` bytes from `offset`.
 * Shared by every codec so that no read happens past the end of a buffer.
 */
export function ensureAvailable(bytes: Uint8Array, offset: number, need: number, what: string): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + need > bytes.length) throwTruncated(bytes, offset, need, what);
}

/** The error of {@link ensureAvailable}, apart so the check itself stays small enough to inline. */
function throwTruncated(bytes: Uint8Array, offset: number, need: number, what: string): never {
  throw new WireError('truncated', offset, `${what} needs ${need} bytes, ${Math.max(0, bytes.length - offset)} left`);
}
