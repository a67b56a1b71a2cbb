/**
 * The ndp_native addon against a real kernel: two network namespaces joined by a
 * veth pair, with every socket opened by native-peer.js inside those namespaces.
 * Nothing is sent in the host namespace. Needs root; skipped otherwise.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';

const PEER = join(__dirname, 'native-peer.js');
const NS_A = `nat${process.pid}a`;
const NS_B = `nat${process.pid}b`;
const IF_A = 'va0'; // in NS_A, the sending end
const IF_B = 'vb0'; // in NS_B, the receiving end
const MARKER = Buffer.from('NDPNATIVE');
const MARKER_OFFSET = 78; // after Ethernet (14), IPv6 (40) and the NS body (24)
const RTM_NEWLINK = 16;
const NLMSG_DONE = 3;
const RTMGRP_LINK = 1;

const skip = process.getuid?.() === 0 ? false : 'needs root: creates network namespaces and AF_PACKET sockets';

type PeerEvent = { event: string } & Record<string, unknown>;
interface Frame {
  hex: string;
  length: number;
  flags: number;
  tsSec: number;
  tsNsec: number;
}
interface Clock {
  sec: number;
  nsec: number;
}

const peers = new Set<ChildProcess>();

/** A native-peer.js child inside a namespace, with its JSON-line events. */
class Peer {
  readonly events: PeerEvent[] = [];
  private readonly child: ChildProcess;
  private readonly checks = new Set<() => void>();
  private stderr = '';
  private exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;

  constructor(ns: string, role: string, args: Record<string, unknown>) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, PEER, role, JSON.stringify(args)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    peers.add(this.child);
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.events.push(JSON.parse(line) as PeerEvent);
      this.checks.forEach((check) => check());
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        peers.delete(this.child);
        this.exitCode = code;
        resolve(code);
        this.checks.forEach((check) => check());
      }),
    );
  }

  /** Resolves with the first value `probe` returns other than undefined, re-probing on each event. */
  until<T>(probe: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.checks.delete(check);
        settle();
      };
      const check = (): void => {
        const value = probe();
        if (value !== undefined) finish(() => resolve(value));
        else if (this.exitCode !== undefined) {
          finish(() => reject(new Error(`peer exited (${this.exitCode}) before ${what}: ${this.stderr}`)));
        }
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${what}: ${this.stderr}`))), timeoutMs);
      this.checks.add(check);
      check();
    });
  }

  /** The n-th (0-based) event named `name`. */
  event(name: string, nth = 0, timeoutMs?: number): Promise<PeerEvent> {
    return this.until(() => this.events.filter((e) => e.event === name)[nth], `${name} #${nth}`, timeoutMs);
  }

  /** Every frame reported so far, in arrival order. */
  frames(): Frame[] {
    return this.events.filter((e) => e.event === 'frames').flatMap((e) => e.frames as Frame[]);
  }

  command(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Closes stdin (the peer closes its sockets and exits) and waits for the exit code. */
  async end(): Promise<number | null> {
    this.child.stdin!.end();
    return this.exited;
  }
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Waits until the link is up with its qdisc attached (before that, sends are silently dropped). */
async function linkReady(ns: string, ifname: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const [link] = JSON.parse(ip('-n', ns, '-j', 'link', 'show', 'dev', ifname)) as Array<{ operstate: string; qdisc: string }>;
    if (link?.operstate === 'UP' && link.qdisc !== 'noop') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${ifname} in ${ns} never came up`);
}

/**
 * A test frame: Ethernet to 33:33:ff:00:00:01, IPv6 fe80::a -> ff02::1:ff00:1 with next
 * header 58, an ICMPv6 body whose type sits at byte 54 (checksum left 0: the kernel's IPv6 is
 * disabled on these links), then MARKER, the sequence number and a per-frame byte pattern.
 */
function testFrame(seq: number, { ethertype = 0x86dd, icmpType = 135, size = 100 } = {}): Buffer {
  const frame = Buffer.alloc(size);
  Buffer.from('3333ff000001' + '02000000000a', 'hex').copy(frame, 0); // destination, source MAC
  frame.writeUInt16BE(ethertype, 12);
  frame.writeUInt32BE(0x60000000, 14); // version 6
  frame.writeUInt16BE(size - 54, 18); // payload length
  frame[20] = 58; // next header: ICMPv6
  frame[21] = 255; // hop limit
  Buffer.from('fe80000000000000000000000000000a', 'hex').copy(frame, 22);
  Buffer.from('ff0200000000000000000001ff000001', 'hex').copy(frame, 38);
  frame[54] = icmpType;
  Buffer.from('20010db8000000000000000000000001', 'hex').copy(frame, 62); // NS target
  MARKER.copy(frame, MARKER_OFFSET);
  frame.writeUInt32BE(seq, MARKER_OFFSET + MARKER.length);
  for (let i = MARKER_OFFSET + MARKER.length + 4; i < size; i++) frame[i] = (seq * 7 + i) & 0xff;
  return frame;
}

/** Sequence number of a test frame, or undefined for anything else. */
function sequenceOf(frame: Frame): number | undefined {
  const bytes = Buffer.from(frame.hex, 'hex');
  const end = MARKER_OFFSET + MARKER.length;
  if (bytes.length < end + 4 || !bytes.subarray(MARKER_OFFSET, end).equals(MARKER)) return undefined;
  return bytes.readUInt32BE(end);
}

function nanos(clock: Clock): bigint {
  return BigInt(clock.sec) * 1_000_000_000n + BigInt(clock.nsec);
}

async function sendFrames(frames: Buffer[], batch: Buffer[]): Promise<PeerEvent> {
  const sender = new Peer(NS_A, 'send', { ifname: IF_A, frames: frames.map((f) => f.toString('hex')), batch: batch.map((f) => f.toString('hex')) });
  const sent = await sender.event('sent');
  assert.equal(await sender.exited, 0);
  return sent;
}

describe('ndp_native addon in network namespaces', { skip }, () => {
  before(async () => {
    ip('netns', 'add', NS_A);
    ip('netns', 'add', NS_B);
    ip('-n', NS_A, 'link', 'add', IF_A, 'type', 'veth', 'peer', 'name', IF_B, 'netns', NS_B);
    // No kernel IPv6 on the pair: no DAD, MLD or RS frames to blur what the filter let through.
    execFileSync('ip', ['netns', 'exec', NS_A, 'sysctl', '-qw', `net.ipv6.conf.${IF_A}.disable_ipv6=1`]);
    execFileSync('ip', ['netns', 'exec', NS_B, 'sysctl', '-qw', `net.ipv6.conf.${IF_B}.disable_ipv6=1`]);
    ip('-n', NS_A, 'link', 'set', IF_A, 'up');
    ip('-n', NS_B, 'link', 'set', IF_B, 'up');
    await linkReady(NS_A, IF_A);
    await linkReady(NS_B, IF_B);
  });

  after(() => {
    for (const child of peers) child.kill('SIGKILL');
    for (const ns of [NS_A, NS_B]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // never created, or already gone
      }
    }
  });

  it('delivers only what the filter accepts, bytes intact, with sane metadata', async () => {
    const receiver = new Peer(NS_B, 'receive', { ifname: IF_B });
    const narrow = new Peer(NS_B, 'receive', { ifname: IF_B, slotSize: 128 });
    const ready = await receiver.event('ready');
    await narrow.event('ready');
    const solicitation = testFrame(1);
    const large = testFrame(4, { size: 1400 });
    const sent = [solicitation, testFrame(2, { icmpType: 136 }), testFrame(3, { ethertype: 0x0800 }), large];
    await sendFrames(sent, []);

    await receiver.until(() => (receiver.frames().length >= 2 ? true : undefined), 'two NS frames');
    await narrow.until(() => (narrow.frames().length >= 2 ? true : undefined), 'two NS frames (narrow)');
    await new Promise((resolve) => setTimeout(resolve, 200)); // room for anything the filter wrongly passes
    const frames = receiver.frames();
    assert.deepEqual(frames.map(sequenceOf), [1, 4], 'NA (136) and non-IPv6 frames are dropped');
    assert.equal(frames[0]?.hex, solicitation.toString('hex'));
    assert.equal(frames[1]?.hex, large.toString('hex'));
    assert.deepEqual(frames.map((f) => [f.length, f.flags]), [[100, 0], [1400, 0]]);

    for (const wakeup of receiver.events.filter((e) => e.event === 'frames')) {
      for (const frame of wakeup.frames as Frame[]) {
        const stamp = nanos({ sec: frame.tsSec, nsec: frame.tsNsec });
        assert.ok(frame.tsNsec < 1e9);
        assert.ok(stamp >= nanos(ready.now as Clock), 'timestamp not before the socket opened');
        assert.ok(stamp <= nanos(wakeup.now as Clock), 'timestamp not after the callback ran');
      }
    }

    const cut = narrow.frames();
    assert.deepEqual(cut.map((f) => [f.length, f.flags]), [[100, 0], [128, 1]], 'the 1400-byte frame is cut to the slot and flagged');
    assert.equal(cut[1]?.hex, large.subarray(0, 128).toString('hex'));
    assert.equal(await receiver.end(), 0);
    assert.equal(await narrow.end(), 0);
  });

  it('sendBatch puts 100 frames on the wire and all arrive, batched per wake-up', async () => {
    const receiver = new Peer(NS_B, 'receive', { ifname: IF_B });
    await receiver.event('ready');
    const batch = Array.from({ length: 100 }, (_, i) => testFrame(100 + i, { size: 92 + i }));
    const sent = await sendFrames([], batch);
    assert.equal(sent.batch, 100);

    await receiver.until(() => (receiver.frames().length >= 100 ? true : undefined), '100 frames');
    const frames = receiver.frames();
    assert.deepEqual(frames.map(sequenceOf), batch.map((_, i) => 100 + i));
    assert.deepEqual(frames.map((f) => f.hex), batch.map((f) => f.toString('hex')));
    const wakeups = receiver.events.filter((e) => e.event === 'frames');
    for (const wakeup of wakeups) {
      assert.ok((wakeup.count as number) <= 64, 'at most the default batch per wake-up');
      const lengths = (wakeup.frames as Frame[]).reduce((sum, f) => sum + f.length, 0);
      assert.equal(wakeup.bytes, lengths, 'one buffer holds the frames back to back');
    }
    receiver.command('stats');
    const stats = await receiver.event('stats');
    assert.equal(stats.drops, 0);
    assert.ok((stats.packets as number) >= 100);
    assert.equal(await receiver.end(), 0);
  });

  it('reports lookups, memberships, filters and closed-socket errors as specified', async () => {
    const peer = new Peer(NS_A, 'misc', { ifname: IF_A });
    const result = await peer.event('misc');
    assert.equal(await peer.exited, 0, 'no handle left open after close()');
    assert.ok((result.ifindex as number) > 0);
    assert.equal(result.missingIndex, 0);
    assert.ok(['ENODEV', 'ENXIO'].includes((result.enodev as { code: string }).code), JSON.stringify(result.enodev));
    assert.equal((result.enodev as { syscall: string }).syscall, 'bind');
    assert.equal((result.enodev as { native: boolean }).native, true);
    assert.equal((result.zeroIfindex as { name: string }).name, 'RangeError');
    assert.equal((result.emptyFilter as { name: string }).name, 'RangeError');
    assert.equal((result.badInstruction as { name: string }).name, 'RangeError');
    assert.ok((result.fdOpen as number) > 2);
    assert.deepEqual(result.membership, [{ ok: true }, { ok: true }, { ok: true }, { ok: true }]);
    assert.deepEqual(result.dropMissing, { ok: true }, 'the kernel ignores dropping an absent membership');
    assert.equal((result.shortMac as { name: string }).name, 'TypeError');
    assert.deepEqual(result.setFilter, { ok: true });
    assert.deepEqual(result.statistics, { ok: { packets: 0, drops: 0 } });
    assert.equal(result.fdClosed, -1);
    assert.equal((result.sendAfterClose as { code: string }).code, 'EBADF');
    assert.ok((result.sendOnlyFd as number) > 2);
    const clock = result.now as Clock;
    assert.ok(Math.abs(clock.sec * 1000 + clock.nsec / 1e6 - (result.dateNow as number)) < 1000);
  });

  it('netlink socket sees link changes in its namespace and answers a dump', async () => {
    const peer = new Peer(NS_B, 'netlink', { groups: RTMGRP_LINK });
    const ready = await peer.event('ready');
    assert.ok((ready.portId as number) > 0);
    assert.ok((ready.fd as number) > 2);
    ip('-n', NS_B, 'link', 'add', 'vc0', 'type', 'veth', 'peer', 'name', 'vc1');
    ip('-n', NS_B, 'link', 'set', 'vc0', 'up');
    const types = (): number[] =>
      peer.events.filter((e) => e.event === 'netlink').flatMap((e) => (e.messages as Array<{ type: number }>).map((m) => m.type));
    await peer.until(() => (types().includes(RTM_NEWLINK) ? true : undefined), 'RTM_NEWLINK event');

    peer.command('dump');
    const dumped = (): Array<{ type: number; seq: number }> =>
      peer.events
        .filter((e) => e.event === 'netlink')
        .flatMap((e) => e.messages as Array<{ type: number; seq: number }>)
        .filter((m) => m.seq === 1);
    await peer.until(() => (dumped().some((m) => m.type === NLMSG_DONE) ? true : undefined), 'dump to finish');
    assert.ok(dumped().filter((m) => m.type === RTM_NEWLINK).length >= 4, 'lo, vb0, vc0 and vc1');
    assert.equal(peer.events.filter((e) => e.event === 'error').length, 0);
    assert.equal(await peer.end(), 0);
    ip('-n', NS_B, 'link', 'del', 'vc0');
  });

  it('reports ENETDOWN once when the link goes down, without spinning, and can reopen', async () => {
    const receiver = new Peer(NS_B, 'receive', { ifname: IF_B });
    await receiver.event('ready');
    ip('-n', NS_B, 'link', 'set', IF_B, 'down');
    const error = await receiver.event('error');
    assert.equal(error.code, 'ENETDOWN');
    assert.equal(error.syscall, 'poll');
    assert.equal(error.native, true);
    const idle = await receiver.event('idle');
    assert.equal(idle.errors, 1, 'onError fires once');
    assert.ok((idle.cpuMs as number) < 200, `stays idle after the error (${String(idle.cpuMs)} ms CPU in 500 ms)`);
    assert.ok((idle.ticks as number) >= 25, `event loop stays responsive (${String(idle.ticks)} ticks)`);

    ip('-n', NS_B, 'link', 'set', IF_B, 'up');
    await linkReady(NS_A, IF_A);
    await linkReady(NS_B, IF_B);
    receiver.command('reopen');
    await receiver.event('ready', 1);
    await sendFrames([testFrame(7)], []);
    await receiver.until(() => (receiver.frames().length >= 1 ? true : undefined), 'a frame after reopening');
    assert.deepEqual(receiver.frames().map(sequenceOf), [7]);
    assert.equal(await receiver.end(), 0);
  });
});
