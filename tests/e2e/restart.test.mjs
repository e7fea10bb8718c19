// Resume across a restart of the local runtime, as a deploy or a `wrangler dev` restart does it:
// every socket is lost and only the Durable Objects' storage is left. Members that come back
// with their resume values keep their ids and get what was sent to them meanwhile; those that
// do not come back are announced as departed, once, to those that did, after the grace period.
// A member whose grace period ends while the runtime is down is gone when it comes back up,
// whether or not the overdue alarm has run by then.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from '../support/server.mjs';
import { startProxy } from '../support/tcp-proxy.mjs';
import { join, joinThrough, resume, resumePath, refused, roundTrip, assertSilent } from '../support/resume.mjs';

const GRACE_SECONDS = 5;

let dir;
let port;
let server;
let proxy;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'streams-restart-'));
  // A port of our own, free now, so the restarted runtime can listen where the first one did.
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  port = probe.address().port;
  await new Promise((resolve) => probe.close(resolve));
});
after(async () => {
  await proxy?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const start = () => startServer({ persist: dir, port, bindings: { RESUME_GRACE_SECONDS: String(GRACE_SECONDS) } });
const event = (type, id) => ({ method: 'EVENT', data: { type, id } });

test('after a restart, members resume with their ids; those that do not come back depart once', async () => {
  server = await start();
  const base = server.wsBase;
  // Stream A: a publisher and two subscribers; one subscriber will not come back.
  const a = '/restart/a';
  const pub = await join(base, a, 'publish');
  const stays = await join(base, a, 'subscribe');
  const lost = await join(base, a, 'subscribe');
  // Stream B: the publisher will not come back; its subscriber will.
  const b = '/restart/b';
  const pubB = await join(base, b, 'publish');
  const subB = await join(base, b, 'subscribe');
  for (const s of [stays, lost]) {
    await pub.event('subscribed', s.id);
    await s.event('published', pub.id);
  }
  await pubB.event('subscribed', subB.id);
  await subB.event('published', pubB.id);
  // Everything sent so far has been handled, so storage holds it.
  for (const c of [pub, stays, lost, pubB, subB]) await roundTrip(c);

  await server.stop();
  const clients = [pub, stays, lost, pubB, subB];
  for (const c of clients) assert.equal((await c.closed).code, 1006, 'the runtime went away without a close frame');
  server = await start();
  assert.equal(server.wsBase, base, 'the runtime is back where it was');

  // A newcomer before anyone is back: the stream it finds is the stored one.
  const newcomer = await join(base, a, 'subscribe');
  assert.deepEqual(await newcomer.next(), event('published', pub.id));

  const pubBack = await resume(base, a, 'publish', pub.resume, pub.id);
  // The newcomer's arrival was queued for the publisher while it was away.
  assert.deepEqual(await pubBack.next(), event('subscribed', newcomer.id));
  pubBack.send({ method: 'NOTIFY', to: stays.id, data: 'sent before its return' });
  await roundTrip(pubBack);
  const staysBack = await resume(base, a, 'subscribe', stays.resume, stays.id);
  assert.deepEqual(await staysBack.next(), { method: 'NOTIFY', from: pub.id, data: 'sent before its return' });
  const subBBack = await resume(base, b, 'subscribe', subB.resume, subB.id);

  // The grace period runs out for those that stayed away: each is announced once.
  assert.deepEqual(await pubBack.next(() => true, (GRACE_SECONDS + 5) * 1000), event('unsubscribed', lost.id));
  assert.deepEqual(await subBBack.next(() => true, (GRACE_SECONDS + 5) * 1000), event('unpublished', pubB.id));
  await assertSilent([pubBack, staysBack, subBBack, newcomer], 500, 'each departure is announced once, and nothing else');
  assert.deepEqual(await refused(base, resumePath(a, lost.resume), 'subscribe'), { code: 'resume-expired', close: 4031 });
  assert.deepEqual(await refused(base, resumePath(b, pubB.resume), 'publish'), { code: 'resume-expired', close: 4031 });

  // The stream carries on with the same ids.
  staysBack.send({ method: 'NOTIFY', to: pub.id, data: 'after the restart' });
  assert.deepEqual(await pubBack.next(), { method: 'NOTIFY', from: stays.id, data: 'after the restart' });
  await Promise.all([pubBack, staysBack, subBBack, newcomer].map((c) => c.close()));
});

test('a grace period that ends while the runtime is down: the late resume is refused, the departure announced once', async () => {
  server ??= await start();
  proxy = await startProxy(port);
  const base = server.wsBase;
  const p = '/restart/down';
  const pub = await join(base, p, 'publish');
  const { client: lost, link } = await joinThrough(proxy, p, 'subscribe');
  await pub.event('subscribed', lost.id);
  await lost.event('published', pub.id);

  // The subscriber's network drops: it is away, and storage says since when.
  link.sever();
  assert.equal((await lost.closed).code, 1006);
  await server.waitForEvent('away', (e) => e.member === lost.id);
  await roundTrip(pub);

  await server.stop();
  assert.equal((await pub.closed).code, 1006);
  // The runtime stays down for longer than the subscriber's grace period: the outage itself
  // is what this test is about, not a wait for something to happen.
  await sleep(GRACE_SECONDS * 1000 + 500);
  server = await start();

  // The publisher is back first (its own grace counts from the wake-up): the subscriber's
  // departure is what it hears, once, whether the overdue alarm or its own resume came first.
  const pubBack = await resume(base, p, 'publish', pub.resume, pub.id);
  assert.deepEqual(await pubBack.next(), event('unsubscribed', lost.id));
  assert.deepEqual(await refused(base, resumePath(p, lost.resume), 'subscribe'), { code: 'resume-expired', close: 4031 });
  await assertSilent([pubBack], 500, 'the departure is announced once');
  await pubBack.close();
});
