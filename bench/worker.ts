/**
 * Harness worker: one measurement with the same code as `ndp-responder bench`, run inside
 * the LAN namespace (`ip netns exec`). Prints one JSON line: the result and a reduced CDF.
 * Usage: node dist/bench/worker.js '<RawBenchOptions as JSON>'
 */
import { measure } from '../src/loadgen/command';
import { parseBenchOptions, type RawBenchOptions } from '../src/loadgen/options';
import { cdfPoints } from '../src/loadgen/stats';

async function main(): Promise<void> {
  const raw = JSON.parse(process.argv[2] ?? '{}') as RawBenchOptions;
  const { result, latenciesUs } = await measure(parseBenchOptions(raw));
  process.stdout.write(`${JSON.stringify({ result, cdf: cdfPoints(latenciesUs, 150) })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench worker: ${(error as Error).message}\n`);
  process.exit(1);
});
