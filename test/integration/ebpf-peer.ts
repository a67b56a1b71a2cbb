/**
 * Child process for the ebpf-*.test.ts namespace tests: loads the fast path (or
 * a one-instruction XDP_PASS program), attaches it inside the namespace it is
 * run in, reports JSON lines on stdout and takes one-word commands on stdin.
 * `ip netns exec NS node ebpf-peer.js JSON-ARGS`. Never run it in the host namespace.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadProgram, type BpfProgram } from '../../src/io/bpf';
import { attachXdp, linkInfo, queryTcx, type BpfLink, type XdpMode } from '../../src/io/bpf-link';
import { FastPath } from '../../src/io/fast-path';
import { interfaceIndex } from '../../src/io/native';
import { parseIpv6, parseMac } from '../../src/wire/address';
import { Assembler } from '../../src/wire/ebpf/assembler';
import { encodeProgram } from '../../src/wire/ebpf/instruction';
import { ProgramType, XdpAction } from '../../src/wire/ebpf/kernel-abi';
import { Reg } from '../../src/wire/ebpf/opcodes';

/** What to load: the fast path on `hook`, or (`passOnly`) an XDP program that passes everything. */
interface PeerArgs {
  ifname: string;
  hook?: 'xdp' | 'tc';
  xdpMode?: XdpMode;
  answer?: boolean;
  targets?: string[];
  passOnly?: boolean;
  /** Only report the device's tcx ingress chain, then exit. */
  queryOnly?: boolean;
}

function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields }, (_key, value: unknown) => (typeof value === 'bigint' ? Number(value) : value))}\n`);
}

function fail(error: unknown): never {
  const e = error as Partial<Error & { code: string; errno: number }>;
  emit('error', { code: e.code, errno: e.errno, message: e.message });
  process.exit(1);
}

function passProgram(): BpfProgram {
  const bytes = encodeProgram(new Assembler().mov64Imm(Reg.R0, XdpAction.PASS).exit().assemble().instructions);
  return loadProgram({ type: ProgramType.XDP, instructions: bytes, name: 'ndp_test_pass' });
}

function main(): void {
  const args = JSON.parse(process.argv[2] ?? '{}') as PeerArgs;
  const ifindex = interfaceIndex(args.ifname);
  if (ifindex === 0) fail(Object.assign(new Error(`no interface ${args.ifname}`), { code: 'ENODEV' }));
  if (args.queryOnly === true) {
    emit('tcx', { ...queryTcx(ifindex, 'ingress') });
    return;
  }
  let fastPath: FastPath | undefined;
  let link: BpfLink;
  try {
    if (args.passOnly === true) {
      link = attachXdp(passProgram(), ifindex, args.xdpMode ?? 'native');
    } else {
      const mac = parseMac(readFileSync(`/sys/class/net/${args.ifname}/address`, 'utf8').trim());
      fastPath = FastPath.load({ hook: args.hook ?? 'xdp', answer: args.answer ?? true, mac, router: false, override: true });
      for (const target of args.targets ?? []) fastPath.addTarget(parseIpv6(target));
      link = fastPath.attach(ifindex, args.xdpMode === undefined ? {} : { xdpMode: args.xdpMode });
    }
  } catch (error) {
    fail(error);
  }
  const info = linkInfo(link);
  emit('attached', { ifindex, linkId: info.id, linkType: info.type, programId: info.programId, instructions: fastPath?.instructionCount });
  const commands: Record<string, () => void> = {
    counters: () => emit('counters', fastPath === undefined ? {} : { ...fastPath.counters() }),
    detach: () => {
      link.close();
      emit('detached');
    },
    tcx: () => emit('tcx', { ...queryTcx(ifindex, 'ingress') }),
    exit: () => process.exit(0),
  };
  createInterface({ input: process.stdin }).on('line', (line) => {
    const command = commands[line.trim()];
    if (command === undefined) emit('error', { message: `unknown command ${line}` });
    else command();
  });
}

main();
