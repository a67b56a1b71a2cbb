/**
 * `npm run bench`: ndp-responder (defaults; fast path and socket path with limits off), the
 * kernel's proxy_ndp (delay 0 and default) and ndppd (when installed), each in its own
 * throwaway lab, measured by the same generator as `ndp-responder bench`. Writes
 * bench/results/<date>.{json,md,svg}. Needs root. `-- --responders KEY,... --cases REGEX`
 * runs a part (bench/selection.ts), `-- --debug-cost` the debug-logging comparison.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/lab/exec';
import { createScenario, destroyAllScenarios, type Scenario } from '../src/lab/topology';
import { KERNEL_TIME_CASE, baselineFlood, runCases, runWorker, type CaseResult, type ResponderResults } from './cases';
import { softirqAccounting } from './machine-cpu';
import { markdownTable, plot, type HarnessResults, type TargetsResult } from './output';
import { LIMITS_OFF, NDP_RESPONDER, RESPONDERS, SOCKET_PATH, ndpResponder, rssMiB, type ResponderKind } from './responders';
import { routerUnderFlood } from './router-case';
import { ROUTER_CASE, TARGETS_CASE, caseSelected, describeSelection, parseSelection, selectResponders, type Selection } from './selection';

/** Single-address targets in the configured-targets case (the 100k). */
const MANY_TARGETS = 100_000;
/** Routed to the bridge; covers every configured target. */
const MANY_ROUTE = '2001:db8::c:0:0/96';
/** Random probe targets come from here: its 65 536 addresses are all configured. */
const MANY_PREFIX = '2001:db8::c:0:0/112';

/** The i-th configured target: 2001:db8::c:HI:LO. */
function manyTarget(i: number): string {
  return `2001:db8::c:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`;
}
const started = Date.now();

function progress(line: string): void {
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
}

/** Builds a lab with the pool of 64 LAN sources, runs `body`, always destroys the lab. */
async function withLab<T>(body: (lab: Scenario) => Promise<T>): Promise<T> {
  const lab = await createScenario({ lanSources: 64 });
  try {
    return await body(lab);
  } finally {
    await lab.destroy();
  }
}

/** Seconds from `begin` until the last configured target is answered (the first one is answered long before). */
async function answeringAll(lab: Scenario, begin: number): Promise<number | undefined> {
  const last = manyTarget(MANY_TARGETS - 1);
  while (Date.now() - begin < 180_000) {
    const probe = await runWorker(lab, { target: [last], count: '5', rate: '100' });
    if (probe.result.answered > 0) return (Date.now() - begin) / 1000;
  }
  return undefined;
}

/** ndp-responder with 100 000 single-address targets from a --config file. */
async function configuredTargets(): Promise<TargetsResult> {
  const note = `${MANY_TARGETS} single addresses in ${MANY_ROUTE} from a --config file; random probe targets from ${MANY_PREFIX}, all configured.`;
  const dir = mkdtempSync(join(tmpdir(), 'ndp-bench-'));
  try {
    const lines = Array.from({ length: MANY_TARGETS }, (_, i) => `  - ${manyTarget(i)}`);
    const file = join(dir, 'targets.yaml');
    writeFileSync(file, `targets:\n${lines.join('\n')}\n`);
    return await withLab(async (lab) => {
      await run('ip', ['-n', lab.host.ns, '-6', 'route', 'add', MANY_ROUTE, 'dev', 'br0']);
      const begin = Date.now();
      const responder = await NDP_RESPONDER.start(lab, undefined, ['--config', file]);
      const startupSeconds = await answeringAll(lab, begin);
      try {
        const options = { count: '50000', rate: '50000', duration: '1', sources: 'pool:64' };
        await runWorker(lab, { ...options, target: [manyTarget(1)], count: '2000', rate: '5000' }); // warm-up
        const many = await runWorker(lab, { ...options, target: [MANY_PREFIX] });
        const single = await runWorker(lab, { ...options, target: [manyTarget(1)] });
        return {
          targets: MANY_TARGETS, startupSeconds, rssMiB: rssMiB(responder.pid), note,
          p50Us: many.result.latencyUs.p50, p50SingleTargetUs: single.result.latencyUs.p50, answeredFraction: many.result.answeredFraction,
        };
      } finally {
        await responder.stop();
      }
    });
  } catch (error) {
    return { targets: MANY_TARGETS, note: `${note} Failed: ${(error as Error).message}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `--debug-cost`: the socket path with its limits off, at the default log level and at debug. */
const DEBUG_COST: readonly ResponderKind[] = [
  ndpResponder('ndp-responder, socket path, limits off', 'socket', [...SOCKET_PATH, ...LIMITS_OFF]),
  ndpResponder('same, --log-level debug', 'debug', [...SOCKET_PATH, ...LIMITS_OFF, '--log-level', 'debug']),
];

/** One line on stderr and exit 2 (bad harness arguments). */
function usage(message: string): never {
  process.stderr.write(`npm run bench: ${message}\n`);
  process.exit(2);
}

/**
 * One responder in its own lab: the kernel-time flood with nothing answering (when selected),
 * the responder's cases, the same flood again after it stopped.
 */
async function measureResponder(kind: ResponderKind, selection: Selection): Promise<ResponderResults> {
  const log = (line: string): void => progress(`${kind.name}: ${line}`);
  const kernelTime = caseSelected(selection, KERNEL_TIME_CASE);
  return withLab(async (lab) => {
    const baselines: CaseResult[] = [];
    if (kernelTime) baselines.push(await baselineFlood(lab, 'before start', log));
    const responder = await kind.start(lab);
    let measured: ResponderResults;
    try {
      measured = await runCases(lab, responder, log, (name) => caseSelected(selection, name));
    } finally {
      await responder.stop();
    }
    if (kernelTime) baselines.push(await baselineFlood(lab, 'after stop', log));
    return {
      ...measured,
      responder: kind.name,
      ...(kind.flags === undefined ? {} : { flags: [...kind.flags] }),
      ...(responder.fastPath === undefined ? {} : { fastPath: responder.fastPath }),
      ...(baselines.length === 0 ? {} : { baselines }),
    };
  });
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('npm run bench: needs root (network namespaces); run: sudo npm run bench\n');
    process.exit(3);
  }
  let selection: Selection;
  let kinds: ResponderKind[];
  try {
    selection = parseSelection(process.argv.slice(2));
    kinds = selectResponders(selection.debugCost ? DEBUG_COST : RESPONDERS, selection.responders);
  } catch (error) {
    return usage((error as Error).message);
  }
  const date = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
  const accounting = softirqAccounting();
  const partial = describeSelection(selection);
  const results: HarnessResults = {
    date,
    machine: { cpus: cpus().length, kernel: release(), node: process.version, ...(accounting === undefined ? {} : { softirqAccounting: accounting }) },
    responders: [],
    skipped: [],
    ...(partial === undefined ? {} : { partial }),
  };
  for (const kind of kinds) {
    if (!kind.available()) {
      results.skipped.push(`${kind.name} (not installed)`);
      progress(`${kind.name}: not installed, skipped`);
      continue;
    }
    progress(`${kind.name}: starting`);
    try {
      results.responders.push(await measureResponder(kind, selection));
    } catch (error) {
      results.skipped.push(`${kind.name} (failed: ${(error as Error).message})`);
      progress(`${kind.name}: failed: ${(error as Error).message}`);
    }
  }
  if (selection.debugCost) return finish(results, date);
  if (caseSelected(selection, ROUTER_CASE)) {
    results.routerUnderFlood = [];
    for (const kind of kinds.filter((k) => k.available())) {
      progress(`${kind.name}: conformant router under a 100k NS/s random-source flood`);
      const outcome = await routerUnderFlood(kind);
      if (typeof outcome === 'string') results.skipped.push(`router under flood (${outcome})`);
      else results.routerUnderFlood.push(outcome);
      if (typeof outcome !== 'string') progress(`${kind.name}: router resolved ${outcome.reachable}/${outcome.addresses}, flood ${outcome.floodRate}/s, CPU ${outcome.cpuPercent ?? '—'} %`);
    }
  }
  if (caseSelected(selection, TARGETS_CASE) && kinds.includes(NDP_RESPONDER)) {
    progress(`${NDP_RESPONDER.name}: ${MANY_TARGETS} configured targets`);
    results.configuredTargets = await configuredTargets();
  }
  finish(results, date);
}

/** Writes the JSON, the markdown table and the plot, and prints the table. */
function finish(results: HarnessResults, date: string): void {
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${date}.json`), `${JSON.stringify(results, null, 1)}\n`);
  writeFileSync(join(dir, `${date}.md`), markdownTable(results));
  writeFileSync(join(dir, `${date}.svg`), plot(results));
  process.stdout.write(`\n${markdownTable(results)}\nwrote bench/results/${date}.{json,md,svg} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void destroyAllScenarios().finally(() => process.exit(130)));
}
main().catch(async (error: unknown) => {
  process.stderr.write(`npm run bench: ${(error as Error).message}\n`);
  await destroyAllScenarios();
  process.exit(1);
});
