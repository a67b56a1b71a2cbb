/** Vocabulary of settings that several layers name: log levels and formats, listen addresses. */

/** Log levels accepted by `--log-level`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Output formats accepted by `--log-format`. */
export type LogFormat = 'json' | 'pretty';

/** Where the metrics endpoint listens; host undefined means every address. */
export interface ListenAddress {
  readonly host: string | undefined;
  readonly port: number;
}

/** Values of `--fast-path`: the in-kernel answer path when possible, always, or never. */
export const FAST_PATH_MODES = ['auto', 'bpf', 'socket'] as const;
/** One of {@link FAST_PATH_MODES}. */
export type FastPathMode = (typeof FAST_PATH_MODES)[number];
/** The default: the kernel path where it loads and attaches, else the socket path with one info line (docs/ebpf-fast-path.md). */
export const DEFAULT_FAST_PATH: FastPathMode = 'auto';
/** The path that answers, as the `started` log line and `check` name it. */
export type FastPathKind = 'bpf-tcx' | 'bpf-xdp-generic' | 'socket';
