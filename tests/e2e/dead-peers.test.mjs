// Dead peers: a connection that used the heartbeat and then fell silent (frozen by the test
// proxy: open, carrying nothing) past HEARTBEAT_TIMEOUT_SECONDS is treated as dropped. A new
// publisher takes the stream from such a publisher at once; otherwise the member is away for the
// grace period, may resume, and departs once if it does not.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from '../support/server.mjs';
import { startProxy } from '../support/tcp-proxy.mjs';
import {
  join,
  joinRawThrough,
  rawHeartbeat,
  resume,
  resumePath,
  refused,
  roundTrip,
  assertSilent,
} from '../support/resume.mjs';

const TIMEOUT_MS = 2000;
// Silence is the point here: these waits let the heartbeat timeout pass for real.
const PAST_TIMEOUT_MS = TIMEOUT_MS + 700;

let server;
let proxy;
before(async () => {
  server = await startServer({
    bindings: { HEARTBEAT_TIMEOUT_SECONDS: String(TIMEOUT_MS / 1000), RESUME_GRACE_SECONDS: '3' },
  });
  proxy = await startProxy(Number(server.url.port));
});
after(async () => {
  await proxy?.close();
  await server?.stop();
});

const event = (type, id) => ({ method: 'EVENT', data: { type, id } });

/** A publisher on a raw connection through the proxy, with two subscribers that know it. */
async function stream(p) {
  const pub = await joinRawThrough(proxy, p, 'publish');
  const subs = [await join(server.wsBase, p, 'subscribe'), await join(server.wsBase, p, 'subscribe')];
  for (const s of subs) {
    await s.event('published', pub.id);
    await pub.reader.next((f) => f.data?.type === 'subscribed' && f.data.id === s.id);
  }
  return { pub, subs };
}

/** What a frozen raw connection was sent, once thawed: the error code and the close. */
async function thawed(raw) {
  raw.link.thaw();
  const error = await raw.reader.next((f) => typeof f?.reason === 'string');
  const close = await raw.reader.nextClose();
  raw.socket.destroy();
  return { code: error.reason.split(':')[0], close: close.code };
}

test('a new publisher takes the stream from a frozen one past its heartbeat timeout', async () => {
  const p = '/dead/takeover';
  const { pub: old, subs } = await stream(p);
  await rawHeartbeat(old);
  old.link.freeze();
  await sleep(PAST_TIMEOUT_MS);

  const fresh = await join(server.wsBase, p, 'publish');
  assert.notEqual(fresh.id, old.id);
  for (const s of subs) {
    assert.deepEqual(await s.next(), event('unpublished', old.id));
    assert.deepEqual(await s.next(), event('published', fresh.id));
  }
  const told = [await fresh.next(), await fresh.next()];
  assert.deepEqual(new Set(told.map((f) => f.data?.id)), new Set(subs.map((s) => s.id)));
  assert.ok(told.every((f) => f.data?.type === 'subscribed'));
  await assertSilent([fresh, ...subs], 300, 'the change is announced once');

  // The old publisher departed (no grace: the stream has a new one), and was told why.
  assert.deepEqual(await thawed(old), { code: 'heartbeat-timeout', close: 4033 });
  assert.deepEqual(await refused(server.wsBase, resumePath(p, old.resume), 'publish'), {
    code: 'resume-expired',
    close: 4031,
  });
  await Promise.all([fresh, ...subs].map((c) => c.close()));
});

test('a heartbeat timeout frees the stream after the grace period, announced once', async () => {
  const p = '/dead/grace';
  const { pub: old, subs } = await stream(p);
  await rawHeartbeat(old);
  old.link.freeze();
  await sleep(PAST_TIMEOUT_MS);

  // Any event makes the awake object look; the silent publisher is then away, not gone: it
  // still holds the stream against a second publisher until its grace period ends.
  await roundTrip(subs[0]);
  assert.deepEqual(await refused(server.wsBase, p, 'publish'), { code: 'publisher-exists', close: 4001 });
  for (const s of subs) assert.deepEqual(await s.next((f) => f?.method === 'EVENT', 10_000), event('unpublished', old.id));
  await assertSilent(subs, 300, 'the departure is announced once');

  const fresh = await join(server.wsBase, p, 'publish');
  for (const s of subs) assert.deepEqual(await s.next(), event('published', fresh.id));
  assert.deepEqual(await thawed(old), { code: 'heartbeat-timeout', close: 4033 });
  assert.deepEqual(await refused(server.wsBase, resumePath(p, old.resume), 'publish'), {
    code: 'resume-expired',
    close: 4031,
  });
  await Promise.all([fresh, ...subs].map((c) => c.close()));
});

test('a member timed out by its heartbeat resumes within the grace period, unnoticed', async () => {
  const p = '/dead/resume';
  const { pub, subs } = await stream(p);
  const [quiet, talker] = subs;
  // The publisher is the frozen one; a subscriber's event makes the object look.
  await rawHeartbeat(pub);
  pub.link.freeze();
  await sleep(PAST_TIMEOUT_MS);
  await roundTrip(talker);
  talker.send({ method: 'NOTIFY', to: pub.id, data: 'while away' });
  await roundTrip(talker);

  const back = await resume(server.wsBase, p, 'publish', pub.resume, pub.id);
  assert.deepEqual(await back.next(), { method: 'NOTIFY', from: talker.id, data: 'while away' });
  await assertSilent([back, quiet, talker], 300, 'nobody heard of the timeout');
  assert.deepEqual(await thawed(pub), { code: 'heartbeat-timeout', close: 4033 });
  await Promise.all([back, ...subs].map((c) => c.close()));
});

test('a publisher frozen before its stream slept loses it to a new one after the wake-up', async () => {
  const p = '/dead/slept';
  const { pub: old, subs } = await stream(p);
  await rawHeartbeat(old);
  old.link.freeze();
  // Past the runtime's eviction (~10 s): the stream is rebuilt for the new publisher, and the
  // silence it finds counts from the heartbeat, not from the wake-up.
  await sleep(12_000);
  const woke = server.nextLog(/"event":"woke"/, 10_000);
  const fresh = await join(server.wsBase, p, 'publish');
  await woke;
  for (const s of subs) {
    assert.deepEqual(await s.next(), event('unpublished', old.id));
    assert.deepEqual(await s.next(), event('published', fresh.id));
  }
  assert.deepEqual(await thawed(old), { code: 'heartbeat-timeout', close: 4033 });
  await assertSilent(subs, 300, 'the change is announced once');
  await Promise.all([fresh, ...subs].map((c) => c.close()));
});
