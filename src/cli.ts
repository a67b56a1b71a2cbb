import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, UserError } from './model/errors';
import type { CommandLine } from './config/load';
import type { RawRunOptions } from './config/run-options';
import type { RawCheckOptions } from './daemon/check';
import { DEFAULT_FAST_PATH, FAST_PATH_MODES, LOG_LEVELS } from './model/settings';

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

/** The flags as typed: values, and which were given (not defaults), so they win over `--config`. */
function commandLineOf(raw: RawRunOptions & { config?: string }, command: Command): CommandLine {
  const explicit = new Set(command.options.map((o) => o.attributeName()).filter((name) => command.getOptionValueSource(name) === 'cli'));
  return { values: raw as CommandLine['values'], explicit, configFile: raw.config };
}

/** Commander's error text ("error: …\n(Did you mean …?)\n") folded into one line without the prefix. */
function oneLine(text: string): string {
  return text.replace(/^error:\s*/, '').split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ');
}

function buildProgram(): Command {
  const program = new Command('ndp-responder')
    .description('Answer IPv6 Neighbour Solicitations for container addresses, at once, from userspace')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    // Commander's own errors as one line like ours: "ndp-responder: unknown option '--x' (Did you mean --y?)".
    .configureOutput({ outputError: (text, write) => write(`ndp-responder: ${oneLine(text)}\n`) });
  program
    .command('run')
    .description('answer Neighbour Solicitations on an interface for the given targets')
    .option('-i, --interface <IF>', 'LAN uplink to listen and answer on')
    .option('-t, --target <ADDR|PREFIX>', 'address or prefix to answer for (repeatable)', collect)
    .option('--via <IFACE>', 'answer only while the kernel routes the target out of IFACE (e.g. the Docker bridge)')
    .option('--wait-for-interface', 'if the uplink does not exist yet, wait for it instead of exiting 3')
    .option('--configure-host', 'turn on forwarding, set accept_ra=2 where it was 1, add missing TARGET dev VIA routes (the routes are removed at exit)')
    .addOption(new Option('--source <MODE>', 'IPv6 source of answers').choices(['target', 'link-local']).default('target'))
    .option('--router', 'set the Router flag in answers (default off: the targets are hosts)')
    .option('--announce', "warm the default router's neighbour cache for each new address: up to 3 NS from it, 1 s apart")
    .option('--no-override', 'clear the Override flag (default on, so stale caches are corrected)')
    .addOption(
      new Option('--fast-path <MODE>', 'answer the common NS in the kernel (eBPF on tcx, else generic XDP; the same answer limits): when possible (auto, else the socket with one info line), always (bpf, else exit 3), or only from the socket (socket)')
        .choices([...FAST_PATH_MODES])
        .default(DEFAULT_FAST_PATH),
    )
    .addOption(new Option('--log-level <LEVEL>', 'log level').choices([...LOG_LEVELS]).default('info'))
    .option('--docker-network <NAME>', 'answer for the IPv6 addresses of containers on this Docker network (repeatable)', collect)
    .option('--docker', 'answer for containers on every IPv6-enabled Docker bridge network')
    .option('--docker-host <URL>', 'Docker Engine endpoint (default: $DOCKER_HOST, else unix:///var/run/docker.sock)')
    .addOption(new Option('--log-format <FORMAT>', 'log format (default: pretty on a terminal, else json)').choices(['json', 'pretty']))
    .option('-c, --config <FILE>', 'YAML file with the same settings as the flags (flags win); re-read on SIGHUP')
    .option('--metrics-listen <HOST:PORT>', 'serve Prometheus metrics at http://HOST:PORT/metrics')
    .option('--rate-limit-per-flow <N/s>', 'answers per second for one (source, target) pair, burst 2×N (default 10/s, far above what a conformant neighbour sends; 0: no limit)')
    .option('--rate-limit-per-source <N/s>', 'answers per second to one solicitation source, burst 2×N (default 0: no limit; a router resolving many addresses is one source)')
    .option('--rate-limit-global <N/s>', 'answers per second in all, burst 2×N (default 0: no limit; a flood would spend it and starve real neighbours)')
    .action(async (options: RawRunOptions, command: Command) => {
      const { runDaemon } = await import('./daemon/run');
      await runDaemon(commandLineOf(options, command));
    });
  program
    .command('check')
    .description('check the host for what the responder needs; prints each problem with its fix, exits 1 if one would stop it')
    .option('-i, --interface <IF>', 'LAN uplink to check')
    .option('-t, --target <ADDR|PREFIX>', 'target whose route and kernel proxy entries to check (repeatable)', collect)
    .option('--via <IFACE>', 'interface the targets must be routed out of (e.g. the Docker bridge)')
    .option('-c, --config <FILE>', 'take interface, via and targets from this YAML file (flags win)')
    .option('--fast-path <MODE>', `say which path run --fast-path MODE would answer from (${FAST_PATH_MODES.join(', ')}; default ${DEFAULT_FAST_PATH})`)
    .action(async (options: RawCheckOptions) => {
      const { runCheck } = await import('./daemon/check');
      process.exitCode = await runCheck(options);
    });
  program
    .command('bench')
    .description('send Neighbour Solicitations at a responder and measure its answers (bounded by --count and --duration)')
    .option('-i, --interface <IF>', 'interface to send probes on and receive answers from')
    .option('-t, --target <ADDR|PREFIX>', 'address to solicit, or a prefix for random targets (repeatable)', collect)
    .option('--count <N>', 'probes to send at most (default 10000, max 10000000)')
    .option('--rate <N>', 'probes per second, 0 = as fast as possible (default 10000)')
    .option('--duration <SECONDS>', 'send for at most this long (default 10, max 300)')
    .option('--sources <SPEC>', 'fixed | pool:N (the first N global addresses of IF) | random:PREFIX (default fixed)')
    .option('--mode <MODE>', 'multicast (address resolution) | unicast (NUD) | dad (default multicast)')
    .option('--json', 'print one JSON object instead of the report')
    .action(async (options: import('./loadgen/options').RawBenchOptions) => {
      const { runBenchCommand } = await import('./loadgen/command');
      await runBenchCommand(options);
    });
  program
    .command('demo')
    .description('build the Docker scenario in throwaway network namespaces and show the responder fixing it')
    .action(async () => {
      const { runDemo } = await import('./lab/demo');
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
