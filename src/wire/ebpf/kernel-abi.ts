/**
 * Kernel ABI numbers for generated eBPF programs, checked against Linux 6.18's
 * include/uapi/linux/bpf.h (and the running kernel's BTF): helper ids, program
 * contexts, return codes, and the program, map and attach types bpf(2) takes.
 */

/** Helper function ids (enum bpf_func_id, `call imm`). Only the ones the programs here may use. */
export const Helper = {
  mapLookupElem: 1,
  mapUpdateElem: 2,
  mapDeleteElem: 3,
  ktimeGetNs: 5,
  /** GPL-only: needs a GPL-compatible license. */
  tracePrintk: 6,
  getSmpProcessorId: 8,
  skbStoreBytes: 9,
  l3CsumReplace: 10,
  l4CsumReplace: 11,
  redirect: 23,
  skbLoadBytes: 26,
  csumDiff: 28,
  skbChangeTail: 38,
  skbPullData: 39,
  csumUpdate: 40,
  xdpAdjustHead: 44,
  redirectMap: 51,
  xdpAdjustTail: 65,
  csumLevel: 135,
} as const;

/** A helper's name as in the kernel's `bpf_` functions, for disassembly ("bpf_map_lookup_elem"). */
export function helperName(id: number): string | undefined {
  const entry = Object.entries(Helper).find(([, value]) => value === id);
  return entry === undefined ? undefined : `bpf_${entry[0].replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
}

/** Byte offsets of the fields an XDP program reads from its context (struct xdp_md, all u32). */
export const XdpMd = {
  data: 0,
  dataEnd: 4,
  dataMeta: 8,
  ingressIfindex: 12,
  rxQueueIndex: 16,
  egressIfindex: 20,
} as const;

/** Byte offsets of struct __sk_buff fields a tc program reads (all u32). */
export const SkBuff = {
  len: 0,
  pktType: 4,
  mark: 8,
  protocol: 16,
  vlanPresent: 20,
  vlanTci: 24,
  ingressIfindex: 36,
  ifindex: 40,
  data: 76,
  dataEnd: 80,
} as const;

/** XDP program verdicts (enum xdp_action). TX sends the (rewritten) frame back out of the same device. */
export const XdpAction = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;

/**
 * tc/tcx verdicts (enum tcx_action_base, TC_ACT_*). NEXT hands the packet to the next program on a
 * tcx hook (TC_ACT_UNSPEC for classic tc); REDIRECT is what bpf_redirect() returns.
 */
export const TcAction = { NEXT: -1, PASS: 0, DROP: 2, REDIRECT: 7 } as const;

/** Program types (enum bpf_prog_type). SCHED_CLS is a tc/tcx classifier. */
export const ProgramType = { SCHED_CLS: 3, XDP: 6 } as const;

/** Map types (enum bpf_map_type). */
export const MapType = { HASH: 1, ARRAY: 2, PERCPU_HASH: 5, PERCPU_ARRAY: 6, LRU_HASH: 9, LPM_TRIE: 11 } as const;

/** BPF_MAP_CREATE flags. An LPM trie must be created with NO_PREALLOC. */
export const MapFlags = { NO_PREALLOC: 1 } as const;

/** Attach types (enum bpf_attach_type) for BPF_LINK_CREATE and BPF_PROG_QUERY. tcx needs Linux 6.6. */
export const AttachType = { XDP: 37, TCX_INGRESS: 46, TCX_EGRESS: 47 } as const;

/** BPF_MAP_UPDATE_ELEM flags. */
export const MapUpdate = { ANY: 0, NOEXIST: 1, EXIST: 2 } as const;

/** Generic multi-program attach flags (tcx): where to insert relative to another program or link. */
export const AttachFlags = { REPLACE: 1 << 2, BEFORE: 1 << 3, AFTER: 1 << 4, ID: 1 << 5, LINK: 1 << 13 } as const;

/** XDP mode flags (include/uapi/linux/if_link.h); a link takes no other XDP flag. */
export const XdpFlags = { SKB_MODE: 1 << 1, DRV_MODE: 1 << 2, HW_MODE: 1 << 3 } as const;
