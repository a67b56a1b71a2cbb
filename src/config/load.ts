/**
 * Where `run`'s configuration comes from: the command line, and `--config FILE` beneath it.
 * Used at start and again on SIGHUP, so a reload sees the same flags win.
 */
import { readFileSync } from 'node:fs';
import { ExitCode, UserError } from '../model/errors';
import { parseConfigText } from './file';
import { parseRunOptions, type RawRunOptions, type RunConfig } from './run-options';

/** The command line: values as commander parsed them, and which were typed (not defaults). */
export interface CommandLine {
  readonly values: RawRunOptions & Record<string, unknown>;
  readonly explicit: ReadonlySet<string>;
  /** The `--config` path, if given. */
  readonly configFile: string | undefined;
}

/** File values beneath flags: a flag typed on the command line always wins, a default never does. */
export function mergeOptions(fromFile: Record<string, unknown>, commandLine: CommandLine): RawRunOptions {
  const merged: Record<string, unknown> = { ...commandLine.values };
  for (const [option, value] of Object.entries(fromFile)) {
    if (!commandLine.explicit.has(option)) merged[option] = value;
  }
  return merged as RawRunOptions;
}

/** Read and check the config file (if any), merge the flags over it, validate everything. */
export function loadRunConfig(commandLine: CommandLine): RunConfig {
  const path = commandLine.configFile;
  if (path === undefined) return parseRunOptions(commandLine.values);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read --config ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, ExitCode.Usage);
  }
  return parseRunOptions(mergeOptions(parseConfigText(text, path), commandLine));
}
