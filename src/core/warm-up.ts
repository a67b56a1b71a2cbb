/**
 * Start-up warm-up: synthetic solicitations through the whole pipeline so V8 has optimised it
 * before the first real frame (without it the first answers take milliseconds in the
 * interpreter). Answers go to a throwaway batch and are never sent.
 */
import { multicastMac, parseIpv6, solicitedNodeAddress, UNSPECIFIED } from '../wire/address';
import { encodeSolicitationFrame, type SolicitationFrameFields } from '../wire/frame';
import { NdOptionType } from '../wire/nd-options';
import type { AnswerGate } from './answer-gate';
import type { DecisionContext } from './decide';
import { OutputBatch } from './output-batch';
import type { AnswerPipeline } from './pipeline';
import { ResponderCounters } from '../model/counters';
import type { RouteInfo, Target } from '../model/target';

/** A batch of synthetic solicitations, laid out as the packet link delivers them. */
interface SyntheticBatch {
  readonly data: Uint8Array;
  readonly meta: Uint32Array;
  readonly count: number;
}

/** The four shapes real traffic has, in turn: resolution with SLLA, NUD, behind hop-by-hop, a DAD probe. */
function shape(target: Uint8Array, index: number): SolicitationFrameFields {
  const peer = Uint8Array.of(0x02, 0, 0x5e, 0, 0x53, 0x01); // documentation MAC (RFC 7042)
  const group = solicitedNodeAddress(target);
  const kind = index % 4;
  return {
    ethernetDestination: kind === 1 ? Uint8Array.of(0x02, 0, 0x5e, 0, 0x53, 0x02) : multicastMac(group),
    ethernetSource: peer,
    ipv6Source: kind === 3 ? UNSPECIFIED : parseIpv6(kind === 1 ? '2001:db8::1' : 'fe80::1'),
    ipv6Destination: kind === 1 ? target : group,
    hopLimit: 255,
    solicitation: { target, options: kind % 2 === 0 ? [{ type: NdOptionType.SourceLinkLayerAddress, linkLayerAddress: peer }] : [] },
    hopByHop: kind === 2,
  };
}

/**
 * `count` solicitations for `target` in the four shapes of {@link shape}, packed into a
 * plain Uint8Array like the frames the packet link delivers, so code warmed with it sees the
 * same types as real traffic.
 */
function syntheticSolicitations(target: Uint8Array, count = 16): SyntheticBatch {
  const frames = Array.from({ length: count }, (_, i) => encodeSolicitationFrame(shape(target, i)));
  const data = new Uint8Array(frames.reduce((sum, f) => sum + f.length, 0));
  const meta = new Uint32Array(count * 4);
  let at = 0;
  frames.forEach((frame, i) => {
    data.set(frame, at);
    at += frame.length;
    meta[i * 4] = frame.length;
  });
  return { data, meta, count };
}

/**
 * A view of `context` in which the warm-up target is answered (link up, routed out of the
 * right interface, not our own), so the warm-up also reaches the gate and the NA writer.
 */
function answeringContext(context: DecisionContext, gate: AnswerGate | undefined): DecisionContext {
  const routes = new Map<string | undefined, RouteInfo>();
  const routeOf = (t: Target): RouteInfo => {
    let route = routes.get(t.via);
    if (route === undefined) routes.set(t.via, (route = { kind: 'interface', ifname: t.via ?? context.via ?? `${context.uplink}-warm-up` }));
    return route;
  };
  return {
    targets: context.targets,
    uplink: context.uplink,
    uplinkMac: context.uplinkMac,
    uplinkLinkLocal: context.uplinkLinkLocal,
    linkUp: true,
    via: context.via,
    source: context.source,
    router: context.router,
    override: context.override,
    answerGate: gate ?? context.answerGate,
    isOwnAddress: () => false,
    routeOf,
  };
}

/**
 * Runs synthetic solicitations for `target` through `pipeline`, alternating the real context
 * and an answering view of it, so every branch is warm. `gate` replaces the context's answer
 * gate in the answering view: pass a throwaway instance of the real gate's class, so its admit
 * code is warmed without spending the real gate's tokens (a gate bypassed during warm-up would
 * leave that code cold, and the first real answer would deoptimise the whole hot path).
 */
export function warmUpPipeline(pipeline: AnswerPipeline, context: DecisionContext, target: Uint8Array, iterations = 20_000, gate?: AnswerGate): void {
  const { data, meta, count } = syntheticSolicitations(target);
  const out = new OutputBatch(count);
  const counters = new ResponderCounters();
  const answering = answeringContext(context, gate);
  for (let i = 0; i < iterations; i += count) {
    pipeline.process(data, count, meta, (i / count) % 2 === 0 ? answering : context, out, counters);
    out.reset();
  }
}
