// Churn soak against the real runtime (workerd via Miniflare): for a fixed time, subscribers
// join and leave and publishers leave and rejoin on several streams, leaving three ways (clean
// close, TCP close without a close frame, TCP reset), while members relay numbered messages to
// each other. Idle gaps let the objects hibernate mid-soak. At the end it quiesces and checks
// every surviving client's view against the truth and every relay's delivery.
//
//   node --experimental-websocket tests/soak/soak.mjs            ~60 s (scripts/test)
//   SOAK_SECONDS=600 node --experimental-websocket tests/soak/soak.mjs
//
// Bounded: at most MAX_SUBSCRIBERS subscribers per stream, one operation per tick; stops by
// itself. Exits 1 on any violation. Needs the Worker built (scripts/build).
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from '../support/server.mjs';
import { rawUpgrade, frameReader, clientFrame } from '../support/raw.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const IDLE_MS = 12_000; // past the local runtime's ~10 s eviction of an idle object
const TICK_MS = 15;
const MAX_SUBSCRIBERS = 6;
// A departed publisher must stop blocking its path quickly, however it left.
const REJOIN_DEADLINE_MS = 10_000;
const WOKE = /"event":"woke".*"connections":(\d+)/;

// The hash stream's subscribers join on the hash of its publish path.
const STREAMS = [
  { publish: '/soak/a', subscribe: '/soak/a' },
  { publish: '/soak/b/c', subscribe: '/soak/b/c' },
  { publish: '/sha1/soak/hashed', subscribe: '/sha1/' + sha1Hex('/soak/hashed').toUpperCase() },
];

function sha1Hex(s) {
  return createHash('sha1').update(s).digest('hex');
}

const violations = [];
const violate = (what) => {
  if (violations.length < 50) console.error(`VIOLATION: ${what}`);
  violations.push(what);
};
const counts = { joins: 0, refusals: 0, leaves: { clean: 0, end: 0, reset: 0 }, relays: 0, relaysDelivered: 0 };

/** Everyone who ever joined, by id. */
const clients = new Map();
/** Events about ids not yet known when they arrived: { type, id, client }. */
const unresolved = [];
/** Every relay sent, by seq: { from, to, arrived }. */
const relays = new Map();
let seq = 0;

let rng = Number(process.env.SOAK_SEED ?? Date.now()) >>> 0;
const seed = rng;
function random() {
  // xorshift32: reproducible with SOAK_SEED.
  rng ^= rng << 13;
  rng >>>= 0;
  rng ^= rng >>> 17;
  rng ^= rng << 5;
  rng >>>= 0;
  return rng / 2 ** 32;
}
const pick = (list) => list[Math.floor(random() * list.length)];

class SoakClient {
  constructor(stream, role, way) {
    this.stream = stream;
    this.role = role;
    this.way = way; // how it will leave: 'clean' | 'end' | 'reset'
    this.id = undefined;
    this.live = false;
    this.frames = 0;
    this.subscribers = new Set(); // the publisher's view
    this.publisher = null; // a subscriber's view
    this.gone = new Set(); // ids this client was told left
    this.notified = new Set(); // ids this client sent a NOTIFY to
  }

  /** Connects; resolves true when admitted, false when refused with `refusedCode`. */
  async join(base) {
    const path = this.role === 'pub' ? this.stream.publish : this.stream.subscribe;
    const mode = this.role === 'pub' ? 'publish' : 'subscribe';
    const first = new Promise((resolve) => (this.onFirst = resolve));
    if (this.way === 'clean') {
      this.ws = new WebSocket(`ws://${base.host}${path}?mode=${mode}`);
      this.ws.addEventListener('message', (e) => this.receive(JSON.parse(e.data)));
      this.ws.addEventListener('error', () => this.onFirst?.({ error: 'socket error' }));
    } else {
      const { status, socket, rest } = await rawUpgrade(base, `${path}?mode=${mode}`);
      if (status !== 101) return this.onFirst({ error: `status ${status}` }), first.then(() => false);
      this.socket = socket;
      socket.on('error', () => {});
      frameReader(socket, rest, (frame) => this.receive(frame));
    }
    const answer = await first;
    if (answer.error) throw new Error(`${path}: ${answer.error}`);
    if (answer.code === 'failed') {
      this.refusedCode = answer.reason.split(':')[0];
      this.drop();
      return false;
    }
    return true;
  }

  send(frame) {
    const text = JSON.stringify(frame);
    if (this.ws) this.ws.send(text);
    else this.socket.write(clientFrame(1, text));
  }

  /** Leaves the way it was made for. The caller has already taken it out of the truth. */
  leave() {
    this.live = false;
    counts.leaves[this.way]++;
    this.drop();
  }

  drop() {
    if (this.way === 'clean') this.ws.close(1000, 'bye');
    else if (this.way === 'end') this.socket.end();
    else this.socket.resetAndDestroy();
  }

  receive(frame) {
    this.frames++;
    if (this.frames === 1) {
      const onFirst = this.onFirst;
      this.onFirst = undefined;
      if (frame.method === 'EVENT' && frame.data?.type === 'created') {
        this.id = frame.data.id;
        if (clients.has(this.id)) violate(`id ${this.id} reused`);
        clients.set(this.id, this);
        this.live = true;
      } else if (frame.code !== 'failed') {
        violate(`first frame is not created: ${JSON.stringify(frame)}`);
      }
      onFirst(frame);
      return;
    }
    if (!this.live) return; // it is leaving; the server may still be talking to it
    if (frame.method === 'EVENT') return this.event(frame.data.type, frame.data.id);
    if (frame.code === 'failed') return violate(`${this.id} got an error: ${frame.reason}`);
    if (frame.code === 'success') return; // the ICE configuration that woke the object
    const relay = relays.get(frame.data?.seq);
    if (!relay) return violate(`${this.id} got an unknown frame ${JSON.stringify(frame)}`);
    if (relay.to !== this.id) violate(`relay ${frame.data.seq} for ${relay.to} reached ${this.id}`);
    if (frame.from !== relay.from) violate(`relay ${frame.data.seq} from ${relay.from} says from ${frame.from}`);
    relay.arrived++;
    if (relay.arrived > 1) violate(`relay ${frame.data.seq} arrived ${relay.arrived} times`);
    counts.relaysDelivered++;
  }

  event(type, id) {
    const bad = (why) => violate(`${type} ${id} to ${this.role} ${this.id} on ${this.stream.publish}: ${why}`);
    if (id === this.id) return bad('about itself');
    if (this.gone.has(id) && !(type.startsWith('un') && this.notified.has(id))) return bad('after it left');
    // The newcomer's own `created` may not have been read yet (another socket): check later.
    const other = clients.get(id);
    if (!other) unresolved.push({ type, id, client: this });
    const wrongStream = other && other.stream !== this.stream;
    switch (`${type}/${this.role}`) {
      case 'subscribed/pub':
        if (other?.role === 'pub' || wrongStream) return bad('not a subscriber of this stream');
        if (this.subscribers.has(id)) return bad('announced twice');
        this.subscribers.add(id);
        return;
      case 'published/sub':
        if (other?.role === 'sub' || wrongStream) return bad('not the publisher of this stream');
        if (this.publisher) return bad(`while ${this.publisher} is still announced`);
        this.publisher = id;
        return;
      case 'unsubscribed/pub':
        if (this.subscribers.delete(id)) return this.gone.add(id);
        if (!this.notified.has(id)) bad('never announced');
        return; // the answer to a NOTIFY that crossed the departure
      case 'unpublished/sub':
        if (this.publisher === id) {
          this.publisher = null;
          return this.gone.add(id);
        }
        if (!this.notified.has(id)) bad('never announced');
        return;
      default:
        bad('wrong event for this role');
    }
  }

  /** Who this client may address now. */
  peers() {
    return this.role === 'pub' ? [...this.subscribers] : this.publisher ? [this.publisher] : [];
  }
}

const live = () => [...clients.values()].filter((c) => c.live);
const members = (stream) => live().filter((c) => c.stream === stream);

async function joinPublisher(base, stream) {
  // The previous publisher may have just been cut off: its departure must free the path soon.
  const deadline = Date.now() + REJOIN_DEADLINE_MS;
  for (;;) {
    const client = new SoakClient(stream, 'pub', pick(['clean', 'end', 'reset']));
    stream.joining = true;
    try {
      if (await client.join(base)) {
        counts.joins++;
        return;
      }
    } finally {
      stream.joining = false;
    }
    counts.refusals++;
    if (client.refusedCode !== 'publisher-exists' || Date.now() > deadline) {
      violate(`publisher on ${stream.publish} refused: ${client.refusedCode}`);
      return;
    }
    await sleep(100);
  }
}

async function joinSubscriber(base, stream, anchor = false) {
  const client = new SoakClient(stream, 'sub', pick(['clean', 'end', 'reset']));
  client.anchor = anchor;
  stream.pendingSubs = (stream.pendingSubs ?? 0) + 1;
  try {
    if (await client.join(base)) counts.joins++;
    else violate(`subscriber on ${stream.subscribe} refused: ${client.refusedCode}`);
  } finally {
    stream.pendingSubs--;
  }
}

function relay() {
  const senders = live().filter((c) => c.peers().some((id) => clients.get(id)?.live));
  if (senders.length === 0) return false;
  const from = pick(senders);
  const to = pick(from.peers().filter((id) => clients.get(id)?.live));
  seq++;
  relays.set(seq, { from: from.id, to, arrived: 0 });
  from.notified.add(to);
  // A spoofed `from` must be overwritten by the sender's true id.
  from.send({ method: 'NOTIFY', to, from: 'spoofed', data: { seq } });
  counts.relays++;
  return true;
}

/**
 * One random operation; joins run in the background (their count is bounded). While `calm`,
 * nobody leaves, so the messages of the end of each phase are between clients that stay.
 */
function operate(base, pending, calm) {
  const roll = random();
  const stream = pick(STREAMS);
  const here = members(stream);
  const subs = here.filter((c) => c.role === 'sub').length + (stream.pendingSubs ?? 0);
  const publisher = here.find((c) => c.role === 'pub');
  if (roll < 0.2 && subs < MAX_SUBSCRIBERS) {
    pending.add(joinSubscriber(base, stream));
  } else if (roll < 0.27 && !publisher && !stream.joining) {
    pending.add(joinPublisher(base, stream));
  } else if (roll < 0.35 && !calm) {
    const leaving = here.filter((c) => !c.anchor && (c.role === 'sub' || random() < 0.3));
    if (leaving.length > 0) pick(leaving).leave();
  } else {
    relay();
  }
}

async function churn(base, ms) {
  const pending = new Set();
  const end = Date.now() + ms;
  const calmFrom = end - ms * 0.3;
  let ops = 0;
  while (Date.now() < end) {
    operate(base, pending, Date.now() > calmFrom);
    ops++;
    await sleep(TICK_MS);
  }
  await Promise.all(pending);
  return ops;
}

/** Waits until every live client's view matches the truth, or the time is up. */
async function quiesce(ms) {
  const end = Date.now() + ms;
  for (;;) {
    const wrong = viewErrors();
    if (wrong.length === 0 || Date.now() > end) return wrong;
    await sleep(200);
  }
}

function viewErrors() {
  const wrong = [];
  for (const c of live()) {
    const here = members(c.stream);
    if (c.role === 'pub') {
      const truth = here.filter((m) => m.role === 'sub').map((m) => m.id).sort();
      const view = [...c.subscribers].sort();
      if (truth.join() !== view.join()) wrong.push(`publisher ${c.id} sees [${view}], truth [${truth}]`);
    } else {
      const truth = here.find((m) => m.role === 'pub')?.id ?? null;
      if (c.publisher !== truth) wrong.push(`subscriber ${c.id} sees ${c.publisher}, truth ${truth}`);
    }
  }
  return wrong;
}

async function main() {
  const server = await startServer();
  const started = Date.now();
  let operations = 0;
  let wakes = 0;
  try {
    // One subscriber per stream stays throughout, so its messages can be checked end to end.
    await Promise.all(STREAMS.map((st) => joinSubscriber(server.url, st, true)));
    // Churn, idle (the objects hibernate), churn again: one idle gap per ~150 s of soak.
    const gaps = Math.max(1, Math.floor(SECONDS / 150));
    const churnMs = Math.max(5_000, (SECONDS * 1000 - gaps * IDLE_MS - 10_000) / (gaps + 1));
    for (let round = 0; round <= gaps; round++) {
      operations += await churn(server.url, churnMs);
      if (round === gaps) break;
      // Every stream gets a member to sleep with, so each one's wake-up can be seen.
      await Promise.all(STREAMS.filter((st) => members(st).length === 0).map((st) => joinSubscriber(server.url, st)));
      await sleep(IDLE_MS);
      const woke = server.nextLog(WOKE, 10_000);
      // Every stream with members is evicted; the first frame to each must wake it.
      for (const stream of STREAMS) {
        const member = members(stream)[0];
        if (member) member.send({ method: 'GET', resource: '/peerconnection', msg_id: 0 });
      }
      try {
        await woke;
        wakes++;
      } catch {
        violate('no object woke from hibernation after the idle gap');
      }
    }
    const wrong = await quiesce(10_000);
    for (const { type, id, client } of unresolved) {
      const other = clients.get(id);
      const role = type.endsWith('subscribed') ? 'sub' : 'pub';
      if (other?.role !== role || other.stream !== client.stream) {
        violate(`${type} ${id} to ${client.id} names no ${role} of ${client.stream.publish}`);
      }
    }
    for (const w of wrong) violate(`after quiescence: ${w}`);
    // Messages between two clients that both stayed must have arrived exactly once.
    let counted = 0;
    for (const [n, r] of relays) {
      if (!clients.get(r.from)?.live || !clients.get(r.to)?.live) continue;
      counted++;
      if (r.arrived !== 1) violate(`relay ${n} from ${r.from} to ${r.to} arrived ${r.arrived} times`);
    }
    const panics = server.logs.filter((l) => /panicked/.test(l));
    for (const p of panics) violate(`runtime log: ${p}`);
    wakes = server.logs.filter((l) => WOKE.test(l)).length;
    console.log(
      `soak: ${((Date.now() - started) / 1000).toFixed(0)} s, seed ${seed}, ${operations} operations, ` +
        `${counts.joins} joins (${counts.refusals} publisher retries), ` +
        `leaves ${counts.leaves.clean} clean / ${counts.leaves.end} TCP close / ${counts.leaves.reset} TCP reset, ` +
        `${counts.relays} relays (${counts.relaysDelivered} delivered, ${counted} between survivors checked), ` +
        `${wakes} hibernation wake-ups, ${live().length} clients at the end, ${violations.length} violations`,
    );
  } finally {
    for (const c of live()) c.leave();
    await server.stop();
  }
  process.exit(violations.length === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
