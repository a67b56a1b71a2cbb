import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, UserError } from './config/errors';
import { checkEnvironment, parseRunOptions, type RawRunOptions } from './config/run-options';
import { createLogger, defaultLogFormat, LOG_LEVELS } from './log';

const STOP_DEADLINE_MS = 800;

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Print one line and exit: the only way errors leave the CLI (never a stack trace). */
function fail(message: string, code: number): never {
  process.stderr.write(`ndp-responder: ${message}\n`);
  process.exit(code);
}

async function runCommand(raw: RawRunOptions): Promise<void> {
  const config = parseRunOptions(raw);
  checkEnvironment(config.daemon);
  const log = createLogger(config.logLevel, config.logFormat ?? defaultLogFormat());
  const { Daemon } = await import('./daemon');
  const daemon = new Daemon(config.daemon, log.child({ module: 'daemon' }));
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const deadline = setTimeout(() => process.exit(ExitCode.Ok), STOP_DEADLINE_MS);
    void daemon.stop().finally(() => {
      clearTimeout(deadline);
      process.exit(ExitCode.Ok);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await daemon.start();
}

function buildProgram(): Command {
  const program = new Command('ndp-responder')
    .description('Answer IPv6 Neighbour Solicitations for container addresses, at once, from userspace')
    .version(packageVersion(), '-V, --version')
    .exitOverride();
  program
    .command('run')
    .description('answer Neighbour Solicitations on an interface for the given targets')
    .option('-i, --interface <IF>', 'LAN uplink to listen and answer on')
    .option('-t, --target <ADDR|PREFIX>', 'address or prefix to answer for (repeatable)', collect)
    .option('--via <IFACE>', 'answer only while the kernel routes the target out of IFACE (e.g. the Docker bridge)')
    .option('--configure-host', 'turn on forwarding, set accept_ra=2 where it was 1, add missing TARGET dev VIA routes (the routes are removed at exit)')
    .addOption(new Option('--source <MODE>', 'IPv6 source of answers').choices(['target', 'link-local']).default('target'))
    .option('--router', 'set the Router flag in answers (default off: the targets are hosts)')
    .option('--no-override', 'clear the Override flag (default on, so stale caches are corrected)')
    .addOption(new Option('--log-level <LEVEL>', 'log level').choices([...LOG_LEVELS]).default('info'))
    .addOption(new Option('--log-format <FORMAT>', 'log format (default: pretty on a terminal, else json)').choices(['json', 'pretty']))
    .action((options: RawRunOptions) => runCommand(options));
  program
    .command('demo')
    .description('build the Docker scenario in throwaway network namespaces and show the responder fixing it')
    .action(async () => {
      const { runDemo } = await import('./demo');
      await runDemo();
    });
  return program;
}

function handleError(error: unknown): never {
  if (error instanceof CommanderError) {
    // Commander already printed its one-line message; help and version are not errors.
    process.exit(error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage);
  }
  if (error instanceof UserError) fail(error.message, error.exitCode);
  fail(`unexpected error: ${(error as Error)?.message ?? String(error)}`, ExitCode.Failure);
}

/** Entry point used by bin/ndp-responder.js. */
export function main(argv: string[]): void {
  process.on('uncaughtException', handleError);
  process.on('unhandledRejection', handleError);
  buildProgram().parseAsync(argv).catch(handleError);
}
