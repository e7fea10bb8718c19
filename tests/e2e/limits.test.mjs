// Limits against the real runtime, configured through vars: frame size, subscribers per
// stream, path length, frame rate (with the close for flooding) and connections per address.
// Each hit is refused to the client that hit it; everyone else carries on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { closed, errorCode, join, refusal } from '../support/access.mjs';

let server;
before(async () => {
  server = await startServer({
    bindings: {
      MAX_FRAME_BYTES: '2048',
      MAX_SUBSCRIBERS: '2',
      MAX_PATH_BYTES: '64',
      FRAME_RATE: '20',
      FRAME_BURST: '20',
      FLOOD_CLOSE_AFTER: '30',
    },
  });
});
after(() => server?.stop());

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A publisher and subscribers on a fresh stream, all introduced. */
async function stream(path, subscribers = 1, base = server.wsBase) {
  const publisher = await join(base, path, { mode: 'publish' });
  const subs = [];
  for (let i = 0; i < subscribers; i++) {
    const sub = await join(base, path, { mode: 'subscribe' });
    await publisher.event('subscribed', sub.id);
    await sub.event('published', publisher.id);
    subs.push(sub);
  }
  return { publisher, subs, close: () => [publisher, ...subs].forEach((c) => c.close()) };
}

/** A NOTIFY frame of exactly `bytes` bytes. */
function notifyOfSize(to, bytes) {
  const head = `{"method":"NOTIFY","to":"${to}","data":"`;
  return `${head}${'x'.repeat(bytes - head.length - 2)}"}`;
}

test('frames up to MAX_FRAME_BYTES are relayed; a larger one is refused to its sender only', async () => {
  const { publisher, subs: [sub], close } = await stream('/limits/frame-size');
  sub.send(notifyOfSize(publisher.id, 2048));
  assert.equal((await publisher.next()).from, sub.id);
  sub.send(notifyOfSize(publisher.id, 2049));
  assert.equal(errorCode(await sub.next()), 'frame-too-large');
  assert.ok(await publisher.quiet(300), 'the oversize frame reached nobody');
  sub.send({ method: 'NOTIFY', to: publisher.id, data: 'still here' });
  assert.equal((await publisher.next()).data, 'still here', 'the sender stays connected');
  close();
});

test('a stream refuses subscribers beyond MAX_SUBSCRIBERS and tells no one else', async () => {
  const { publisher, subs, close } = await stream('/limits/full', 2);
  const got = await refusal(server.wsBase, '/limits/full', { mode: 'subscribe' });
  assert.equal(got.code, 'stream-full');
  assert.equal(got.close, 4020);
  assert.ok(await publisher.quiet(300), 'the publisher was not told of the refused subscriber');
  publisher.send({ method: 'NOTIFY', to: subs[1].id, data: 'hello' });
  assert.equal((await subs[1].next()).data, 'hello');
  // A departure makes room.
  await subs[0].close();
  await publisher.event('unsubscribed', subs[0].id);
  const late = await join(server.wsBase, '/limits/full', { mode: 'subscribe' });
  await publisher.event('subscribed', late.id);
  late.close();
  close();
});

test('paths longer than MAX_PATH_BYTES are refused with path-too-long', async () => {
  const ok = `/${'p'.repeat(63)}`;
  const client = await join(server.wsBase, ok, { mode: 'publish' });
  client.close();
  const got = await refusal(server.wsBase, `${ok}q`, { mode: 'publish' });
  assert.equal(got.code, 'path-too-long');
  assert.equal(got.close, 4005);
});

test('frames over FRAME_RATE are dropped with rate-limited; the connection and its peers carry on', async () => {
  const { publisher, subs: [fast, calm], close } = await stream('/limits/rate', 2);
  for (let i = 0; i < 40; i++) fast.send({ method: 'NOTIFY', to: publisher.id, data: i });
  const errors = [];
  while (errors.length < 10) errors.push(await fast.next((f) => f?.code === 'failed'));
  assert.ok(errors.every((f) => errorCode(f) === 'rate-limited'), JSON.stringify(errors));
  // The calm subscriber's own bucket is untouched.
  calm.send({ method: 'NOTIFY', to: publisher.id, data: 'calm' });
  assert.equal((await publisher.next((f) => f.data === 'calm')).from, calm.id);
  await sleep(300);
  const relayed = publisher.frames.filter((f) => f.from === fast.id).length;
  assert.ok(relayed >= 20 && relayed < 40, `relayed ${relayed} of 40 at a burst of 20`);
  // After a second the bucket has refilled and the same connection is served again.
  await sleep(1100);
  fast.send({ method: 'NOTIFY', to: publisher.id, data: 'later' });
  assert.equal((await publisher.next((f) => f.data === 'later')).from, fast.id);
  close();
});

test('a connection that keeps flooding is closed with 4022; the rest of the stream carries on', async () => {
  const { publisher, subs: [flooder, other], close } = await stream('/limits/flood', 2);
  for (let i = 0; i < 200; i++) flooder.send({ method: 'NOTIFY', to: publisher.id, data: i });
  assert.deepEqual(await closed(flooder), { code: 4022, reason: 'flooding' });
  assert.ok(flooder.frames.some((f) => errorCode(f) === 'flooding'), 'told why before the close');
  await publisher.event('unsubscribed', flooder.id);
  other.send({ method: 'NOTIFY', to: publisher.id, data: 'unaffected' });
  assert.equal((await publisher.next((f) => f.data === 'unaffected')).from, other.id);
  publisher.send({ method: 'NOTIFY', to: other.id, data: 'back' });
  assert.equal((await other.next()).data, 'back');
  close();
});

test('IP_CONNECT_RATE limits connection attempts per client address, and only that address', async () => {
  const limited = await startServer({ bindings: { IP_CONNECT_RATE: '3' } });
  try {
    const from = (ip) => ({ headers: { 'CF-Connecting-IP': ip } });
    const a = '203.0.113.7';
    const publisher = await join(limited.wsBase, '/limits/ip', { mode: 'publish', ...from(a) });
    const sub1 = await join(limited.wsBase, '/limits/ip', { mode: 'subscribe', ...from(a) });
    const sub2 = await join(limited.wsBase, '/limits/ip', { mode: 'subscribe', ...from(a) });
    const got = await refusal(limited.wsBase, '/limits/ip', { mode: 'subscribe', ...from(a) });
    assert.equal(got.code, 'connect-rate');
    assert.equal(got.close, 4021);
    // Another address is unaffected, and so are the connections already open.
    const sub3 = await join(limited.wsBase, '/limits/ip', { mode: 'subscribe', ...from('203.0.113.8') });
    await publisher.event('subscribed', sub3.id);
    publisher.send({ method: 'NOTIFY', to: sub1.id, data: 'open' });
    assert.equal((await sub1.next((f) => f.from)).data, 'open');
    for (const c of [publisher, sub1, sub2, sub3]) c.close();
  } finally {
    await limited.stop();
  }
});

test('the defaults: 64 KiB frames, 256-byte paths', async () => {
  const defaults = await startServer();
  try {
    const { publisher, subs: [sub], close } = await stream('/limits/defaults', 1, defaults.wsBase);
    sub.send(notifyOfSize(publisher.id, 65536));
    assert.equal((await publisher.next()).from, sub.id);
    sub.send(notifyOfSize(publisher.id, 65537));
    assert.equal(errorCode(await sub.next()), 'frame-too-large');
    close();
    const ok = await join(defaults.wsBase, `/${'p'.repeat(255)}`, { mode: 'publish' });
    ok.close();
    assert.equal((await refusal(defaults.wsBase, `/${'p'.repeat(256)}`, { mode: 'publish' })).code, 'path-too-long');
  } finally {
    await defaults.stop();
  }
});

test('limits written as TOML numbers in [vars] (JavaScript numbers at runtime) are read too', async () => {
  const numeric = await startServer({ bindings: { MAX_SUBSCRIBERS: 1 } });
  try {
    const first = await join(numeric.wsBase, '/limits/numeric', { mode: 'subscribe' });
    assert.equal((await refusal(numeric.wsBase, '/limits/numeric', { mode: 'subscribe' })).code, 'stream-full');
    first.close();
  } finally {
    await numeric.stop();
  }
});
