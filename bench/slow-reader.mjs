// Slow readers: how much memory the runtime spends on subscribers that never read. Each of
// STREAMS streams has a publisher and SUBSCRIBERS subscribers; every subscriber is a raw TCP
// client that completes the WebSocket upgrade and then never reads from its socket, and the
// publisher relays 64 KiB NOTIFYs to them in turn as fast as the frame rate allows, for
// SECONDS. The workerd process this script's Miniflare started is found among this process's
// descendants, and its resident memory sampled throughout, with the bytes waiting in the
// kernel's TCP queues of the connections to it (relayed data a subscriber does not read sits
// there first, outside workerd's RSS, until the queues are full). Afterwards the subscribers
// read what was kept for them, which counts exactly what was relayed.
//
//   node bench/slow-reader.mjs                   the build in build/ (scripts/build first)
//   node bench/slow-reader.mjs /tmp/before/build another build (a directory or its index.js)
//
// SLOW_SECONDS (default 25), SLOW_STREAMS (4), SLOW_SUBSCRIBERS (1 per stream), SLOW_RECONNECT
// (1: a publisher the server closed comes back, as a determined sender would; 0: it stays
// away), SLOW_READ (0; 1: the subscribers do read, a control). Listens on 127.0.0.1 only and
// stops by itself.
import { Miniflare } from 'miniflare';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { rawUpgrade, frameReader, clientFrame } from '../tests/support/raw.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.SLOW_SECONDS ?? 25);
const STREAMS = Number(process.env.SLOW_STREAMS ?? 4);
const SUBSCRIBERS = Number(process.env.SLOW_SUBSCRIBERS ?? 1);
const RECONNECT = process.env.SLOW_RECONNECT !== '0';
// The control: subscribers that do read, to tell the cost of the traffic from that of buffering.
const READ = process.env.SLOW_READ === '1';
// The largest frame the server accepts by default (MAX_FRAME_BYTES).
const NOTIFY_BYTES = 65_536;
// Just under the default frame rate (FRAME_RATE 100/s, FRAME_BURST 400), so that no frame is
// ever refused for the rate itself: every refusal measured is the relay budget's.
const RATE = 95;
const BURST = 380;
const SAMPLE_MS = 200;
const SETTLE_MS = 3_000;
// After the attack the subscribers read what was kept for them, until it stops coming.
const DRAIN_IDLE_MS = 1_000;
const DRAIN_MAX_MS = 60_000;
// However the runtime behaves, the run ends.
const WATCHDOG_MS = (SECONDS + 120) * 1000 + DRAIN_MAX_MS;

const arg = process.argv[2] ?? path.join(root, 'build');
const scriptPath = arg.endsWith('.js') ? path.resolve(arg) : path.resolve(arg, 'index.js');
const buildDir = path.dirname(scriptPath);
const publicDir = fs.existsSync(path.join(buildDir, '../public')) ? path.join(buildDir, '../public') : path.join(root, 'public');

const watchdog = setTimeout(() => {
  console.error(`slow-reader: still running after ${WATCHDOG_MS / 1000} s; giving up`);
  process.exit(2);
}, WATCHDOG_MS);
watchdog.unref();

/** The processes descended from `pid`, by walking /proc (our own tree only). */
function descendants(pid) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name is in parentheses and may hold spaces: the ppid follows the last ')'.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // It exited while we looked.
    }
  }
  const found = [];
  const walk = (p) => {
    for (const c of children.get(p) ?? []) {
      found.push(c);
      walk(c);
    }
  };
  walk(pid);
  return found;
}

function comm(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Resident memory in MiB. */
function rssMiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

/**
 * Bytes waiting in the kernel's TCP queues (received but unread, sent but unacknowledged) of
 * the loopback connections to or from `port`, both ends, in MiB; 0 if `ss` is missing.
 */
function queuedMiB(port) {
  try {
    const out = execFileSync('ss', ['-tnH', 'state', 'established', `( sport = :${port} or dport = :${port} )`], { encoding: 'utf8' });
    let bytes = 0;
    for (const line of out.split('\n')) {
      const [recvQ, sendQ] = line.trim().split(/\s+/).map(Number);
      if (Number.isFinite(recvQ) && Number.isFinite(sendQ)) bytes += recvQ + sendQ;
    }
    return bytes / 2 ** 20;
  } catch {
    return 0;
  }
}

/** A NOTIFY frame of exactly `bytes` bytes. */
function notifyOfSize(to, bytes) {
  const head = `{"method":"NOTIFY","to":"${to}","data":"`;
  return `${head}${'x'.repeat(bytes - head.length - 2)}"}`;
}

const stats = { sent: 0, refused: {}, closes: {}, connects: 0 };

/**
 * One publisher connection: joins, waits for its subscribers, sends until `deadline` or until
 * the server closes it. Resolves with the server's close code (or null).
 */
async function publishOnce(base, streamPath, deadline) {
  const { status, socket, rest } = await rawUpgrade(base, `${streamPath}?mode=publish`);
  if (status !== 101) throw new Error(`publisher upgrade: status ${status}`);
  stats.connects++;
  socket.on('error', () => {});
  // The subscribers announced to it, each with its NOTIFY ready to send.
  const targets = new Map();
  let closeCode = null;
  let ended = false;
  let wake = () => {};
  const onFrame = (frame) => {
    if (frame.method === 'EVENT' && frame.data?.type === 'subscribed') {
      targets.set(frame.data.id, clientFrame(1, notifyOfSize(frame.data.id, NOTIFY_BYTES)));
    }
    if (frame.method === 'EVENT' && frame.data?.type === 'unsubscribed') targets.delete(frame.data.id);
    if (frame.code === 'failed') {
      const code = frame.reason.split(':')[0];
      stats.refused[code] = (stats.refused[code] ?? 0) + 1;
    }
    wake();
  };
  const reader = frameReader(socket, rest, onFrame);
  reader.nextClose(WATCHDOG_MS).then(
    (c) => {
      // The server ignores whatever a closed connection still sends: stop at its close frame.
      closeCode = c.code;
      ended = true;
      wake();
    },
    () => {},
  );
  socket.on('close', () => {
    ended = true;
    wake();
  });
  const waitFor = (cond) =>
    new Promise((resolve) => {
      const check = () => {
        if (cond() || ended || Date.now() >= deadline) {
          wake = () => {};
          resolve();
        }
      };
      wake = check;
      check();
    });
  await waitFor(() => targets.size >= SUBSCRIBERS);
  let tokens = BURST;
  let last = Date.now();
  let turn = 0;
  while (!ended && Date.now() < deadline && targets.size > 0) {
    const now = Date.now();
    tokens = Math.min(BURST, tokens + ((now - last) * RATE) / 1000);
    last = now;
    if (tokens < 1) {
      await sleep(Math.ceil(((1 - tokens) * 1000) / RATE));
      continue;
    }
    tokens -= 1;
    // In turn to each subscriber.
    const frames = [...targets.values()];
    const frame = frames[turn++ % frames.length];
    stats.sent++;
    if (!socket.write(frame)) {
      // TCP pushes back: wait until the runtime has read what was written.
      await new Promise((resolve) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    }
  }
  // Let a close that is on its way arrive before deciding how this connection ended.
  if (ended && closeCode === null) await sleep(50);
  socket.destroy();
  return closeCode;
}

async function attack(base, n, deadline) {
  const streamPath = `/slow-reader/${n}`;
  // The publisher first, so each subscriber's arrival is announced to it with the id to target.
  const first = publishOnce(base, streamPath, deadline);
  await sleep(200);
  const subs = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const sub = await rawUpgrade(base, `${streamPath}?mode=subscribe`);
    if (sub.status !== 101) throw new Error(`subscriber upgrade: status ${sub.status}`);
    // rawUpgrade leaves the socket paused after the upgrade: nothing is read from it until the
    // attack is over (unless this is the control run, where subscribers read).
    sub.socket.on('error', () => {});
    if (READ) sub.counter = read(sub);
    subs.push(sub);
  }
  let round = first;
  for (;;) {
    const code = await round;
    const key = code === null ? 'still open when the attack ended' : String(code);
    stats.closes[key] = (stats.closes[key] ?? 0) + 1;
    if (!RECONNECT || code === null || Date.now() >= deadline) break;
    round = publishOnce(base, streamPath, deadline);
  }
  return subs;
}

/** Starts reading a subscriber's socket, counting the NOTIFYs in what the runtime sends it. */
function read(sub) {
  const counter = { notifies: 0, lastData: Date.now(), closed: false };
  frameReader(sub.socket, sub.rest, (frame) => {
    if (frame.method === 'NOTIFY') counter.notifies++;
  });
  sub.socket.on('data', () => (counter.lastData = Date.now()));
  sub.socket.on('close', () => (counter.closed = true));
  return counter;
}

/** Resolves with the NOTIFYs counted once nothing has arrived for DRAIN_IDLE_MS (or `until`). */
async function settled(counter, until) {
  while (!counter.closed && Date.now() - counter.lastData < DRAIN_IDLE_MS && Date.now() < until) await sleep(100);
  return counter.notifies;
}

const mf = new Miniflare({
  host: '127.0.0.1',
  port: 0,
  modules: true,
  scriptPath,
  // Module names are relative to this, and workerd refuses paths that climb out of it.
  modulesRoot: buildDir,
  modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
  compatibilityDate: '2026-04-20',
  durableObjects: { STREAMS: { className: 'StreamObject', useSQLite: true } },
  assets: { directory: publicDir, routerConfig: { has_user_worker: true } },
  cf: false,
  // The Worker's own log lines (wake-ups) are not figures of this benchmark.
  handleRuntimeStdio: (stdout, stderr) => {
    stdout.resume();
    stderr.pipe(process.stderr);
  },
});
const samples = [];
let sampler;
try {
  const url = await mf.ready;
  const workerds = descendants(process.pid).filter((pid) => comm(pid) === 'workerd');
  if (workerds.length !== 1) throw new Error(`expected one workerd below this process, found ${workerds.length}`);
  const [workerd] = workerds;
  const port = Number(url.port);
  const sample = () => samples.push({ t: Date.now(), rss: rssMiB(workerd), queued: queuedMiB(port) });
  // One connection first, closed cleanly, so the start figure includes the loaded Worker.
  const warm = await rawUpgrade(url, '/slow-reader/warm-up?mode=subscribe');
  const warmReader = frameReader(warm.socket, warm.rest, () => {});
  warm.socket.write(clientFrame(8, Buffer.from([0x03, 0xe8])));
  await warmReader.nextClose();
  warm.socket.destroy();
  await sleep(500);
  sample();
  const start = samples[0].rss;
  sampler = setInterval(sample, SAMPLE_MS);
  const began = Date.now();
  const deadline = began + SECONDS * 1000;
  const subscribers = (await Promise.all(Array.from({ length: STREAMS }, (_, n) => attack(url, n, deadline)))).flat();
  const attackMs = Date.now() - began;
  sample();
  const end = samples.at(-1).rss;
  const peak = Math.max(...samples.map((s) => s.rss));
  const queuedEnd = samples.at(-1).queued;
  const queuedPeak = Math.max(...samples.map((s) => s.queued));
  const drainStart = Date.now();
  for (const sub of subscribers) sub.counter ??= read(sub);
  const delivered = await Promise.all(subscribers.map((sub) => settled(sub.counter, drainStart + DRAIN_MAX_MS)));
  const drainMs = Date.now() - drainStart;
  for (const sub of subscribers) sub.socket.destroy();
  await sleep(SETTLE_MS);
  sample();
  clearInterval(sampler);
  const released = samples.at(-1).rss;
  const relayed = delivered.reduce((a, b) => a + b, 0);
  const dropped = Object.values(stats.refused).reduce((a, b) => a + b, 0);
  const mib = (x) => x.toFixed(1);
  console.log(`slow-reader: ${path.relative(process.cwd(), scriptPath) || scriptPath}`);
  console.log(
    `  ${STREAMS} streams of a publisher and ${SUBSCRIBERS} subscriber${SUBSCRIBERS > 1 ? 's' : ''} ` +
      `(${READ ? 'reading: the control' : 'not reading'}), ${NOTIFY_BYTES}-byte NOTIFYs at up to ${RATE}/s ` +
      `(bursts of ${BURST}) per publisher, ` +
      `${(attackMs / 1000).toFixed(1)} s, publishers ${RECONNECT ? 'reconnect' : 'do not reconnect'} when closed`,
  );
  console.log(
    `  workerd RSS (MiB): start ${mib(start)}, peak ${mib(peak)} (+${mib(peak - start)}), ` +
      `end of attack ${mib(end)} (+${mib(end - start)}), ${SETTLE_MS / 1000} s after the subscribers read it all and left ${mib(released)}`,
  );
  console.log(`  TCP queues of the runtime's connections (MiB, kernel memory): peak ${mib(queuedPeak)}, end of attack ${mib(queuedEnd)}`);
  console.log(
    `  NOTIFYs sent ${stats.sent} (${mib((stats.sent * NOTIFY_BYTES) / 2 ** 20)} MiB); refused with an error frame ${dropped} ` +
      `(${Object.entries(stats.refused).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}); ` +
      `relayed ${relayed} (${mib((relayed * NOTIFY_BYTES) / 2 ** 20)} MiB: counted by the subscribers, the last of it in ${(drainMs / 1000).toFixed(1)} s); ` +
      `the other ${stats.sent - dropped - relayed} went unanswered (sent after the server had closed the connection, or in flight at the end)`,
  );
  console.log(
    `  publisher connections ${stats.connects}, closed by the server: ` +
      `${Object.entries(stats.closes).map(([k, v]) => `${k} ×${v}`).join(', ')}`,
  );
} finally {
  clearInterval(sampler);
  await mf.dispose();
}
process.exit(0);
