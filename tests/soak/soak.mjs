// Churn soak against the real runtime (workerd via Miniflare): for a fixed time, subscribers
// join and leave and publishers leave and rejoin on several streams, while members relay
// numbered messages to each other. Members leave three ways: a close frame (a departure at
// once), or a TCP close or reset without one, which makes them away for the grace period.
// Of those, some resume within it with their `resume` value (same id, everything sent to them
// meanwhile delivered once and in order, their peers told nothing), some come back after it
// (refused `resume-expired`, then they join afresh), and some never come back (their departure
// is announced once, after the grace period). Idle gaps let the objects hibernate mid-soak. At
// the end it waits out every grace period and checks every surviving client's view against the
// truth and every relay's delivery.
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
// Short, so that waiting out every grace period keeps the end of each phase short.
const GRACE_MS = 3_000;
// A departed publisher must stop blocking its path soon: at once after a close frame, at the
// end of the grace period after a drop.
const REJOIN_DEADLINE_MS = 10_000;
// When a member drops, it comes back after RESUME_MIN_MS..RESUME_MAX_MS (within the grace
// period), after the grace period (late), or never.
const RESUME_MIN_MS = 500;
const RESUME_MAX_MS = 2_000;
const FATES = ['resume', 'resume', 'late', 'never'];
// How long a frame can be in flight around a TCP reset: sent by the server before it learned
// of the reset, or written by the client just before it. The protocol cannot deliver such
// frames (the server already sent them to the dead socket, or never read them), so relays
// within this window of a reset are not required, and the soak never resets a member while an
// event to it may be in flight (see `canReset`).
const IN_FLIGHT_MS = 300;
// How late the runtime may run the alarm that ends a grace period, for the reset rule.
const ALARM_LAG_MS = 500;
// Past the grace period by this much, a member has certainly departed: a resume is refused.
const SURELY_GONE_MS = 2_000;
// A relay has arrived this long after it was sent (on this machine it takes well under 1 ms), so
// one sent this long before its target left must have reached it.
const SETTLED_MS = 2_000;
// Clock granularity between this process and the runtime.
const SLACK_MS = 100;
const WOKE = /"event":"woke".*"connections":(\d+)/;

// The hash stream's subscribers join on the hash of its publish path.
const STREAMS = [
  { publish: '/soak/a', subscribe: '/soak/a' },
  { publish: '/soak/b/c', subscribe: '/soak/b/c' },
  { publish: '/sha1/soak/hashed', subscribe: '/sha1/' + sha1Hex('/soak/hashed').toUpperCase() },
];
for (const stream of STREAMS) {
  stream.pendingSubs = 0;
  stream.joining = false;
  // Until then nothing may announce anything on the stream: a member was just reset.
  stream.fenceUntil = 0;
  // Times [from, to] when the server may be sending events to the stream's members.
  stream.busy = [];
}

function sha1Hex(s) {
  return createHash('sha1').update(s).digest('hex');
}

const violations = [];
const violate = (what) => {
  if (violations.length < 50) console.error(`VIOLATION: ${what}`);
  violations.push(what);
};
const counts = {
  joins: 0,
  refusals: 0,
  leaves: { clean: 0, end: 0, reset: 0 },
  fates: { resume: 0, late: 0, never: 0 },
  resumes: 0,
  lateResumes: 0,
  resumesTooSlow: 0,
  resetsPostponed: 0,
  stuckSockets: 0,
  relays: 0,
  relaysDelivered: 0,
  relaysFromQueue: 0,
  lostInFlight: 0,
};

/** Everyone who ever joined, by id. */
const clients = new Map();
/** Events about ids not yet known when they arrived: { type, id, client }. */
const unresolved = [];
/** Every relay sent, by seq. */
const relays = new Map();
/** When some client was first told of each id's departure. */
const departureSeen = new Map();
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

/**
 * Opens a connection made to leave one way: `clean` is a WebSocket closed with a close frame,
 * `end` and `reset` are raw TCP connections cut without one. `onFirst(frame, conn)` sees the
 * first frame synchronously, so it can attach the connection to its member before the frames
 * that follow it in the same TCP segment; later frames go to `conn.member`.
 */
async function openConn(base, pathAndQuery, way, onFirst) {
  const conn = { way, member: null, superseded: false, resetAt: undefined };
  let resolveFirst;
  const first = new Promise((resolve) => (resolveFirst = resolve));
  let frames = 0;
  const handle = (frame) => {
    frames++;
    if (frames === 1) {
      onFirst(frame, conn);
      resolveFirst(frame);
    } else if (!conn.superseded) {
      conn.member?.receive(frame, conn);
    }
  };
  conn.closed = new Promise((resolve) => (conn.onClosed = resolve));
  if (way === 'clean') {
    const ws = new WebSocket(`ws://${base.host}${pathAndQuery}`);
    const closeCode = new Promise((resolve) => {
      ws.addEventListener('close', (e) => {
        resolve(e.code);
        conn.onClosed();
        resolveFirst({ error: `closed ${e.code} before any frame` });
      });
    });
    ws.addEventListener('message', (e) => handle(JSON.parse(e.data)));
    conn.send = (text) => ws.send(text);
    conn.drop = () => ws.close(1000, 'bye');
    conn.closeCode = () => closeCode;
  } else {
    const { status, socket, rest } = await rawUpgrade(base, pathAndQuery);
    if (status !== 101) throw new Error(`${pathAndQuery}: status ${status}`);
    socket.on('error', () => {});
    socket.on('close', () => {
      conn.onClosed();
      resolveFirst({ error: 'closed before any frame' });
    });
    conn.send = (text) => socket.write(clientFrame(1, text));
    // After a TCP close the socket stays readable until the server ends it: what the server
    // sent before it saw the close is still read (and counted).
    conn.drop = way === 'end' ? () => socket.end() : () => socket.resetAndDestroy();
    conn.destroy = () => socket.resetAndDestroy();
    const reader = frameReader(socket, rest, handle);
    const closeFrame = reader.nextClose(10_000).then(
      (c) => c.code,
      () => undefined,
    );
    conn.closeCode = () => closeFrame;
  }
  const frame = await first;
  if (frame.error) throw new Error(`${pathAndQuery}: ${frame.error}`);
  return { conn, first: frame };
}

/** A member: one id, over one or more connections (a resume keeps the id). */
class SoakClient {
  constructor(stream, role, anchor = false) {
    this.stream = stream;
    this.role = role;
    this.anchor = anchor;
    this.id = undefined;
    this.resume = undefined;
    this.conn = null;
    // 'live' (connected), 'away' (dropped, still a member), 'gone' (departed)
    this.state = 'live';
    this.dropAt = undefined;
    this.lastLeave = undefined; // 'close' | 'drop'
    this.leftAt = undefined; // when it last left or dropped
    this.resets = []; // when this member's connections were reset
    this.subscribers = new Set(); // the publisher's view
    this.publisher = null; // a subscriber's view
    this.departed = new Set(); // ids this client was told left
    this.notifies = new Map(); // id -> NOTIFYs this client sent it
    this.answers = new Map(); // id -> departures of it beyond the first (answers to NOTIFYs)
    this.lastFrom = new Map(); // sender id -> seq of the last relay from it
  }

  get path() {
    return this.role === 'pub' ? this.stream.publish : this.stream.subscribe;
  }

  get mode() {
    return this.role === 'pub' ? 'publish' : 'subscribe';
  }

  /** Connects afresh; resolves true when admitted, false when refused with `refusedCode`. */
  async join(base) {
    const { first } = await openConn(base, `${this.path}?mode=${this.mode}`, pickWay(), (frame, conn) => {
      if (frame.method === 'EVENT' && frame.data?.type === 'created') {
        this.id = frame.data.id;
        if (clients.has(this.id)) violate(`id ${this.id} reused`);
        if (frame.data.resumed) violate(`fresh join ${this.id} says resumed`);
        if (typeof frame.data.resume !== 'string') violate(`created for ${this.id} has no resume value`);
        this.resume = frame.data.resume;
        this.conn = conn;
        conn.member = this;
        clients.set(this.id, this);
      } else if (frame.code !== 'failed') {
        violate(`first frame is not created: ${JSON.stringify(frame)}`);
      } else {
        conn.drop();
      }
    });
    if (first.code === 'failed') {
      this.refusedCode = first.reason.split(':')[0];
      return false;
    }
    return true;
  }

  send(frame) {
    this.conn.send(JSON.stringify(frame));
  }

  /** Leaves with a close frame: a departure at once. */
  leave() {
    this.state = 'gone';
    this.lastLeave = 'close';
    this.leftAt = Date.now();
    counts.leaves.clean++;
    this.conn.drop();
  }

  /** Cuts the TCP connection without a close frame, then does what `fate` says. */
  async drop(base, fate) {
    const conn = this.conn;
    const now = Date.now();
    this.state = 'away';
    this.dropAt = now;
    this.lastLeave = 'drop';
    this.leftAt = now;
    counts.leaves[conn.way]++;
    counts.fates[fate]++;
    if (conn.way === 'reset') {
      conn.resetAt = now;
      this.resets.push(now);
      this.stream.fenceUntil = now + IN_FLIGHT_MS;
    }
    // Whoever does not resume in time departs when the grace period ends.
    this.stream.busy.push([now + GRACE_MS, now + GRACE_MS + ALARM_LAG_MS]);
    conn.drop();
    if (fate === 'resume') {
      await sleep(RESUME_MIN_MS + random() * (RESUME_MAX_MS - RESUME_MIN_MS));
      return this.comeBack(base, false);
    }
    await sleep(GRACE_MS);
    // The server departs it about now; until then a new publisher may still be refused.
    this.state = 'gone';
    if (fate === 'never') return;
    // Come back once some peer was told of the departure (or long after it should have been).
    const until = this.dropAt + GRACE_MS + SURELY_GONE_MS;
    while (!departureSeen.has(this.id) && Date.now() < until) await sleep(50);
    await this.comeBack(base, true);
  }

  /** Resumes with the last `resume` value; `late`: after the grace period, so it must be refused. */
  async comeBack(base, late) {
    const old = this.conn;
    // The old socket must be finished first, so frames from the two never interleave.
    const finished = await Promise.race([old.closed.then(() => true), sleep(1_000).then(() => false)]);
    if (!finished) {
      counts.stuckSockets++;
      old.superseded = true;
      old.destroy?.();
    }
    const value = this.resume;
    const query = `${this.path}?mode=${this.mode}&resume=${encodeURIComponent(value)}`;
    const sentAt = Date.now();
    const { conn, first } = await openConn(base, query, pickWay(), (frame, conn) => {
      if (frame.method !== 'EVENT' || frame.data?.type !== 'created') return;
      const bad = (why) => violate(`resume of ${this.role} ${this.id}: ${why}`);
      if (frame.data.id !== this.id) bad(`came back as ${frame.data.id}`);
      if (frame.data.resumed !== true) bad('created without "resumed": true');
      if (typeof frame.data.resume !== 'string' || frame.data.resume === value) bad('no fresh resume value');
      if (departureSeen.has(this.id)) bad('accepted after its departure was announced');
      if (late && sentAt >= this.dropAt + GRACE_MS + SURELY_GONE_MS) bad('accepted long after its grace period');
      this.resume = frame.data.resume;
      this.conn = conn;
      this.state = 'live';
      conn.member = this;
    });
    if (first.method === 'EVENT') {
      if (first.data.id === this.id && first.data.resumed === true) counts.resumes++;
      return;
    }
    const code = first.reason?.split(':')[0];
    const closeCode = await conn.closeCode();
    // Complete the close as a client would: a socket left closing keeps the object awake.
    conn.drop();
    this.state = 'gone';
    if (!late) {
      // Refused because this machine was too slow to get the request in within the grace
      // period: not the server's fault, but the member is gone.
      if (code === 'resume-expired' && Date.now() >= this.dropAt + GRACE_MS - SLACK_MS) counts.resumesTooSlow++;
      else return violate(`resume of ${this.role} ${this.id} within its grace period refused: ${first.reason}`);
    } else if (code !== 'resume-expired' || closeCode !== 4031) {
      return violate(`late resume of ${this.id}: ${JSON.stringify(first)}, close ${closeCode} (want resume-expired, 4031)`);
    } else {
      counts.lateResumes++;
    }
    // It joins afresh, with a new id, when the stream has room for it.
    const stream = this.stream;
    while (Date.now() < stream.fenceUntil) await sleep(50);
    const here = inStream(stream);
    if (this.role === 'sub') {
      if (here.filter((c) => c.role === 'sub').length + stream.pendingSubs < MAX_SUBSCRIBERS) {
        await joinSubscriber(base, stream);
      }
    } else if (!here.some((c) => c.role === 'pub') && !stream.joining) {
      await joinPublisher(base, stream);
    }
  }

  receive(frame, conn) {
    if (conn !== this.conn || this.state === 'gone') return; // replaced, or it left
    if (frame.method === 'EVENT') {
      if (frame.data?.type === 'created') return violate(`${this.id} got a second created`);
      return this.event(frame.data.type, frame.data.id);
    }
    if (frame.code === 'failed') return violate(`${this.id} got an error: ${frame.reason}`);
    if (frame.code === 'success') return; // the ICE configuration that woke the object
    const n = frame.data?.seq;
    const relay = relays.get(n);
    if (!relay) return violate(`${this.id} got an unknown frame ${JSON.stringify(frame)}`);
    if (relay.to !== this.id) violate(`relay ${n} for ${relay.to} reached ${this.id}`);
    if (frame.from !== relay.from) violate(`relay ${n} from ${relay.from} says from ${frame.from}`);
    relay.arrived++;
    if (relay.arrived > 1) violate(`relay ${n} arrived ${relay.arrived} times`);
    const last = this.lastFrom.get(frame.from) ?? 0;
    if (n < last) violate(`relay ${n} from ${frame.from} to ${this.id} arrived after relay ${last}`);
    this.lastFrom.set(frame.from, Math.max(last, n));
    counts.relaysDelivered++;
    if (relay.away) counts.relaysFromQueue++;
  }

  event(type, id) {
    const now = Date.now();
    const bad = (why) => violate(`${type} ${id} to ${this.role} ${this.id} on ${this.stream.publish}: ${why}`);
    if (id === this.id) return bad('about itself');
    // The newcomer's own `created` may not have been read yet (another socket): check later.
    const other = clients.get(id);
    if (!other) unresolved.push({ type, id, client: this });
    const wrongStream = other && other.stream !== this.stream;
    const arrival = type === 'subscribed' || type === 'published';
    if (arrival && this.departed.has(id)) return bad('after its departure');
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
      case 'unpublished/sub': {
        const known = type === 'unsubscribed' ? this.subscribers.delete(id) : this.publisher === id;
        if (!known) {
          // Only a NOTIFY that crossed the departure may be answered with it again.
          const answered = this.answers.get(id) ?? 0;
          if (answered >= (this.notifies.get(id) ?? 0)) {
            return bad(this.departed.has(id) ? 'announced twice' : 'never announced');
          }
          this.answers.set(id, answered + 1);
          return;
        }
        if (type === 'unpublished') this.publisher = null;
        this.departed.add(id);
        if (!departureSeen.has(id)) departureSeen.set(id, now);
        if (other?.state === 'live') bad('while it is connected');
        if (other?.lastLeave === 'drop' && now < other.dropAt + GRACE_MS - SLACK_MS) {
          bad(`announced ${other.dropAt + GRACE_MS - now} ms before its grace period could end`);
        }
        return;
      }
      default:
        bad('wrong event for this role');
    }
  }

  /** Who this client may address now. */
  peers() {
    return this.role === 'pub' ? [...this.subscribers] : this.publisher ? [this.publisher] : [];
  }
}

const pickWay = () => pick(['clean', 'end', 'reset']);
const isMember = (c) => c?.state === 'live' || c?.state === 'away';
/** The stream's members as the server should see them: connected or away. */
const inStream = (stream) => [...clients.values()].filter((c) => c.stream === stream && isMember(c));
const live = () => [...clients.values()].filter((c) => c.state === 'live');

/**
 * Whether a member of `stream` may be reset now: only when no event to it can be in flight,
 * so that what the protocol cannot deliver (frames sent to a socket already dead) stays out of
 * the checked views.
 */
function canReset(stream, now) {
  if (stream.pendingSubs > 0 || stream.joining || now < stream.fenceUntil) return false;
  stream.busy = stream.busy.filter(([, to]) => to + IN_FLIGHT_MS >= now);
  return stream.busy.every(([from]) => from - IN_FLIGHT_MS > now);
}

/** Marks a time when the server sends events on the stream (a join, a departure). */
function busy(stream, from, to = from + IN_FLIGHT_MS) {
  stream.busy.push([from, to]);
}

async function joinPublisher(base, stream) {
  // The previous publisher may have just departed: its departure must free the path soon.
  const deadline = Date.now() + REJOIN_DEADLINE_MS;
  stream.joining = true;
  try {
    for (;;) {
      const client = new SoakClient(stream, 'pub');
      const start = Date.now();
      const admitted = await client.join(base);
      busy(stream, start, Date.now());
      if (admitted) {
        counts.joins++;
        return;
      }
      counts.refusals++;
      if (client.refusedCode !== 'publisher-exists' || Date.now() > deadline) {
        violate(`publisher on ${stream.publish} refused: ${client.refusedCode}`);
        return;
      }
      await sleep(100);
    }
  } finally {
    stream.joining = false;
  }
}

async function joinSubscriber(base, stream, anchor = false) {
  const client = new SoakClient(stream, 'sub', anchor);
  stream.pendingSubs++;
  const start = Date.now();
  try {
    if (await client.join(base)) counts.joins++;
    else violate(`subscriber on ${stream.subscribe} refused: ${client.refusedCode}`);
  } finally {
    busy(stream, start, Date.now());
    stream.pendingSubs--;
  }
}

function relay() {
  const senders = live().filter((c) => c.peers().some((id) => isMember(clients.get(id))));
  if (senders.length === 0) return false;
  const from = pick(senders);
  const targets = from.peers().filter((id) => isMember(clients.get(id)));
  // Half the time, someone away if there is one: its queue is what resume must deliver.
  const away = targets.filter((id) => clients.get(id).state === 'away');
  const to = away.length > 0 && random() < 0.5 ? pick(away) : pick(targets);
  seq++;
  const now = Date.now();
  relays.set(seq, { from: from.id, to, sentAt: now, fromConn: from.conn, away: clients.get(to).state === 'away', arrived: 0 });
  from.notifies.set(to, (from.notifies.get(to) ?? 0) + 1);
  // A spoofed `from` must be overwritten by the sender's true id.
  from.send({ method: 'NOTIFY', to, from: 'spoofed', data: { seq } });
  counts.relays++;
  return true;
}

/**
 * One random operation; joins and what follows a drop run in the background (their count is
 * bounded). While `calm`, nobody leaves, so the messages of the end of each phase are between
 * clients that stay.
 */
function operate(base, pending, calm) {
  const now = Date.now();
  const roll = random();
  const stream = pick(STREAMS);
  const here = inStream(stream);
  const subs = here.filter((c) => c.role === 'sub').length + stream.pendingSubs;
  const publisher = here.find((c) => c.role === 'pub');
  const fenced = now < stream.fenceUntil;
  if (roll < 0.2 && subs < MAX_SUBSCRIBERS && !fenced) {
    pending.add(joinSubscriber(base, stream));
  } else if (roll < 0.27 && !publisher && !stream.joining && !fenced) {
    pending.add(joinPublisher(base, stream));
  } else if (roll < 0.35 && !calm) {
    // An anchor only ever drops and resumes: it stays a member throughout.
    const leaving = here.filter(
      (c) => c.state === 'live' && (c.role === 'sub' || random() < 0.3) && !(c.anchor && c.conn.way === 'clean'),
    );
    if (leaving.length === 0) return relay();
    const client = pick(leaving);
    if (client.conn.way === 'clean') {
      if (fenced) return relay();
      busy(stream, now);
      return client.leave();
    }
    if (client.conn.way === 'reset' && !canReset(stream, now)) {
      counts.resetsPostponed++;
      return relay();
    }
    pending.add(client.drop(base, client.anchor ? 'resume' : pick(FATES)));
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
  // Every drop's story ends (a resume, a late refusal and fresh join, a departure).
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
  for (const c of clients.values()) {
    if (c.state === 'away') wrong.push(`${c.role} ${c.id} is still away`);
  }
  for (const c of live()) {
    const here = inStream(c.stream);
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

/**
 * Every relay to a member that is still there at the end (or that left well after it was sent)
 * must have arrived exactly once, across its resumes too, unless it was in flight around a
 * reset of its sender's or its target's socket.
 */
function checkRelays() {
  let checked = 0;
  for (const [n, r] of relays) {
    const target = clients.get(r.to);
    if (target?.state !== 'live' && !(r.sentAt < target?.leftAt - SETTLED_MS)) continue;
    const fromReset = r.fromConn.resetAt !== undefined && r.sentAt >= r.fromConn.resetAt - IN_FLIGHT_MS;
    const toReset = target.resets.some((t) => Math.abs(r.sentAt - t) <= IN_FLIGHT_MS);
    if (fromReset || toReset) {
      if (r.arrived === 0) counts.lostInFlight++;
      continue;
    }
    checked++;
    if (r.arrived !== 1) {
      const when = r.away ? ` (sent while it was away, ${r.sentAt - target.dropAt} ms after its drop)` : '';
      violate(`relay ${n} from ${r.from} to ${r.to} arrived ${r.arrived} times${when}`);
    }
  }
  return checked;
}

async function main() {
  const server = await startServer({ bindings: { RESUME_GRACE_SECONDS: String(GRACE_MS / 1000) } });
  const started = Date.now();
  let operations = 0;
  let wakes = 0;
  try {
    // One subscriber per stream stays throughout (it drops only to resume), so its messages
    // can be checked end to end.
    await Promise.all(STREAMS.map((st) => joinSubscriber(server.url, st, true)));
    // Churn, idle (the objects hibernate), churn again: one idle gap per ~150 s of soak.
    const gaps = Math.max(1, Math.floor(SECONDS / 150));
    const churnMs = Math.max(5_000, (SECONDS * 1000 - gaps * IDLE_MS - 10_000) / (gaps + 1));
    for (let round = 0; round <= gaps; round++) {
      operations += await churn(server.url, churnMs);
      if (round === gaps) break;
      // Every stream gets a member to sleep with, so each one's wake-up can be seen.
      await Promise.all(STREAMS.filter((st) => inStream(st).length === 0).map((st) => joinSubscriber(server.url, st)));
      await sleep(IDLE_MS);
      const woke = server.nextLog(WOKE, 10_000);
      // Every stream with members is evicted; the first frame to each must wake it.
      for (const stream of STREAMS) {
        const member = inStream(stream).find((c) => c.state === 'live');
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
    const checked = checkRelays();
    const panics = server.logs.filter((l) => /panicked/.test(l));
    for (const p of panics) violate(`runtime log: ${p}`);
    wakes = server.logs.filter((l) => WOKE.test(l)).length;
    console.log(
      `soak: ${((Date.now() - started) / 1000).toFixed(0)} s, seed ${seed}, ${operations} operations, ` +
        `${counts.joins} joins (${counts.refusals} publisher retries), ` +
        `leaves ${counts.leaves.clean} close frame / ${counts.leaves.end} TCP close / ${counts.leaves.reset} TCP reset ` +
        `(${counts.resetsPostponed} resets postponed), ` +
        `after a drop: ${counts.resumes} resumes in grace (${counts.resumesTooSlow} too slow), ` +
        `${counts.lateResumes} late resumes refused (of ${counts.fates.late}), ${counts.fates.never} never back, ` +
        `${counts.relays} relays (${counts.relaysDelivered} delivered, ${counts.relaysFromQueue} of them queued while away; ` +
        `${checked} checked exactly once, ${counts.lostInFlight} lost in flight at a reset), ` +
        `${wakes} hibernation wake-ups, ${live().length} clients at the end, ` +
        (counts.stuckSockets ? `${counts.stuckSockets} half-closed sockets the server never closed, ` : '') +
        `${violations.length} violations`,
    );
  } finally {
    for (const c of live()) c.conn.drop();
    await server.stop();
  }
  process.exit(violations.length === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
