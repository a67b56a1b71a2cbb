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
