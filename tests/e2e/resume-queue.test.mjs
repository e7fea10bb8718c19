// What an away member misses is queued and handed over when it resumes: every event and relayed
// NOTIFY, in the order the server would have sent them, exactly once, and nothing else; a queue
// that would pass RESUME_QUEUE_BYTES ends the wait with one departure instead.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { startProxy } from '../support/tcp-proxy.mjs';
import {
  join,
  joinThrough,
  resume,
  resumePath,
  refused,
  roundTrip,
  assertSilent,
} from '../support/resume.mjs';

const QUEUE_BYTES = 2048;

let server;
let small;
let proxy;
before(async () => {
  [server, small] = await Promise.all([
    startServer({ bindings: { RESUME_GRACE_SECONDS: '10' } }),
    startServer({ bindings: { RESUME_GRACE_SECONDS: '10', RESUME_QUEUE_BYTES: String(QUEUE_BYTES) } }),
  ]);
  proxy = await startProxy(Number(server.url.port));
});
after(async () => {
  await proxy?.close();
  await Promise.all([server?.stop(), small?.stop()]);
});

/** The next `n` frames, whatever they are, in arrival order. */
async function take(client, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await client.next());
  return out;
}

const notify = (from, data) => ({ method: 'NOTIFY', from, data });
const event = (type, id) => ({ method: 'EVENT', data: { type, id } });

test('an away publisher gets the relays and arrivals and departures it missed, in order, once', async () => {
  const p = '/queue/publisher';
  const { client: pub, link } = await joinThrough(proxy, p, 'publish');
  const a = await join(server.wsBase, p, 'subscribe');
  await pub.event('subscribed', a.id);
  await a.event('published', pub.id);

  link.sever();
  await pub.closed;
  // Each step is handled before the next starts (round trips), so the order is the test's.
  a.send({ method: 'NOTIFY', to: pub.id, data: { n: 1 } });
  await roundTrip(a);
  const b = await join(server.wsBase, p, 'subscribe');
  // The away publisher is still the stream's publisher for a newcomer.
  await b.event('published', pub.id);
  b.send({ method: 'NOTIFY', to: pub.id, data: { n: 2 } });
  await roundTrip(b);
  a.send({ method: 'NOTIFY', to: pub.id, data: { n: 3 } });
  await roundTrip(a);
  const c = await join(server.wsBase, p, 'subscribe');
  await c.event('published', pub.id);
  await c.close();

  const backLink = proxy.nextLink();
  const back = await resume(proxy.wsBase, p, 'publish', pub.resume, pub.id);
  assert.deepEqual(await take(back, 6), [
    notify(a.id, { n: 1 }),
    event('subscribed', b.id),
    notify(b.id, { n: 2 }),
    notify(a.id, { n: 3 }),
    event('subscribed', c.id),
    event('unsubscribed', c.id),
  ]);
  await assertSilent([back, a, b], 300, 'the queue is delivered once and nobody hears of the absence');

  // Delivered means gone: a second drop and resume brings nothing back.
  (await backLink).sever();
  await back.closed;
  const again = await resume(server.wsBase, p, 'publish', back.resume, pub.id);
  await assertSilent([again, a, b], 300, 'a second resume replays nothing');
  await Promise.all([again, a, b].map((s) => s.close()));
});

test('an away subscriber gets the relays and the publisher change it missed, in order, once', async () => {
  const p = '/queue/subscriber';
  const p1 = await join(server.wsBase, p, 'publish');
  const { client: sub, link } = await joinThrough(proxy, p, 'subscribe');
  await sub.event('published', p1.id);
  await p1.event('subscribed', sub.id);

  link.sever();
  await sub.closed;
  p1.send({ method: 'NOTIFY', to: sub.id, data: { n: 1 } });
  p1.send({ method: 'NOTIFY', to: sub.id, data: { n: 2 } });
  // Its close is handled after its frames.
  await p1.close();
  const p2 = await join(server.wsBase, p, 'publish');
  // The away subscriber is still a member: the new publisher is told of it and can reach it.
  await p2.event('subscribed', sub.id);
  p2.send({ method: 'NOTIFY', to: sub.id, data: { n: 3 } });
  await roundTrip(p2);

  const back = await resume(server.wsBase, p, 'subscribe', sub.resume, sub.id);
  assert.deepEqual(await take(back, 5), [
    notify(p1.id, { n: 1 }),
    notify(p1.id, { n: 2 }),
    event('unpublished', p1.id),
    event('published', p2.id),
    notify(p2.id, { n: 3 }),
  ]);
  await assertSilent([back, p2], 300, 'the queue is delivered once and the publisher hears nothing');
  p2.send({ method: 'NOTIFY', to: sub.id, data: 'live' });
  assert.deepEqual(await back.next(), notify(p2.id, 'live'));
  await Promise.all([back, p2].map((c) => c.close()));
});

test('a queue that would pass RESUME_QUEUE_BYTES ends the wait: one departure, the value expires', async () => {
  const p = '/queue/overflow';
  const smallProxy = await startProxy(Number(small.url.port));
  try {
    const pub = await join(small.wsBase, p, 'publish');
    const { client: sub, link } = await joinThrough(smallProxy, p, 'subscribe');
    await pub.event('subscribed', sub.id);
    link.sever();
    await sub.closed;
    // Two frames fit in the queue; the third would pass its bound.
    const data = 'x'.repeat(QUEUE_BYTES / 3);
    for (let i = 0; i < 3; i++) pub.send({ method: 'NOTIFY', to: sub.id, data });
    // Announced at once, long before the grace period's end, and once.
    assert.deepEqual(await pub.next(), event('unsubscribed', sub.id));
    await assertSilent([pub], 300, 'the departure is announced once');
    const late = await refused(small.wsBase, resumePath(p, sub.resume), 'subscribe');
    assert.deepEqual(late, { code: 'resume-expired', close: 4031 });
    await pub.close();
  } finally {
    await smallProxy.close();
  }
});
