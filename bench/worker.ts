/**
 * Harness worker: one measurement with the same code as `ndp-responder bench`, run inside
 * the LAN namespace (`ip netns exec`). Prints one JSON line: the result, a reduced CDF, and
 * machine-wide CPU readings at the send phase's edges (/proc/stat is not per namespace).
 * Usage: node dist/bench/worker.js '<RawBenchOptions as JSON>'
 */
import { performance } from 'node:perf_hooks';
import { measure } from '../src/loadgen/command';
import { parseBenchOptions, type RawBenchOptions } from '../src/loadgen/options';
import { cdfPoints } from '../src/loadgen/stats';
import { readMachine, type MachineSample, type MachineWindow } from './machine-cpu';

async function main(): Promise<void> {
  const raw = JSON.parse(process.argv[2] ?? '{}') as RawBenchOptions;
  let before: MachineSample | undefined;
  let after: MachineSample | undefined;
  let began = 0;
  let seconds = 0;
  const onSendPhase = (edge: 'start' | 'end'): void => {
    if (edge === 'start') {
      before = readMachine();
      began = performance.now();
    } else {
      seconds = (performance.now() - began) / 1000;
      after = readMachine();
    }
  };
  const { result, latenciesUs } = await measure(parseBenchOptions(raw), undefined, onSendPhase);
  const machine: MachineWindow | undefined = before === undefined || after === undefined ? undefined : { seconds: Math.round(seconds * 1e6) / 1e6, before, after };
  process.stdout.write(`${JSON.stringify({ result, cdf: cdfPoints(latenciesUs, 150), ...(machine === undefined ? {} : { machine }) })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench worker: ${(error as Error).message}\n`);
  process.exit(1);
});
