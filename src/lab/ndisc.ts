import { runInNamespace } from './exec';

/** Outcome of {@link runNdisc6}. */
export interface NdiscResult {
  /** True when ndisc6 accepted an advertisement for the target. */
  readonly ok: boolean;
  /** The Target Link-Layer Address it reported, lower case. */
  readonly mac?: string;
  /** Everything ndisc6 printed, for assertion messages. */
  readonly output: string;
}

/** Options for {@link runNdisc6}. */
export interface NdiscOptions {
  /** Solicitations to send (`-r`); default 3, as ndisc6. */
  readonly retries?: number;
  /** Wait per solicitation (`-w`), in milliseconds; default 1000, as ndisc6. */
  readonly waitMs?: number;
  /** IPv6 source address of the solicitation (`-s`); default chosen by the kernel (usually link-local). */
  readonly source?: string;
}

/** The MAC in ndisc6's "Target link-layer address: 7E:4F:..." line, lower case. */
export function parseNdiscOutput(output: string): string | undefined {
  const match = /Target link-layer address:\s*([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})/.exec(output);
  return match?.[1]?.toLowerCase();
}

/**
 * Solicit `address` on `ifname` from namespace `ns` with `ndisc6 -1 -n -r N -w MS`.
 * Note: ndisc6 1.0.5 ignores advertisements whose IPv6 source is not the target itself,
 * so the kernel's proxy_ndp answers (sourced from the host's own address) read as "no response".
 */
export async function runNdisc6(ns: string, address: string, ifname: string, options: NdiscOptions = {}): Promise<NdiscResult> {
  const retries = options.retries ?? 3;
  const waitMs = options.waitMs ?? 1000;
  const args = ['-1', '-n', '-r', String(retries), '-w', String(waitMs)];
  if (options.source !== undefined) args.push('-s', options.source);
  args.push(address, ifname);
  // Exit code 2 is "no response" (or a usage error, told apart below); anything else is thrown.
  const { stdout, stderr, exitCode } = await runInNamespace(ns, 'ndisc6', args, {
    okExitCodes: [0, 2],
    timeoutMs: 2000 + retries * waitMs,
  });
  const output = stdout + stderr;
  if (exitCode === 2 && !output.includes('No response')) throw new Error(`ndisc6 ${args.join(' ')}: ${output.trim()}`);
  const mac = exitCode === 0 ? parseNdiscOutput(output) : undefined;
  return { ok: mac !== undefined, ...(mac === undefined ? {} : { mac }), output };
}
