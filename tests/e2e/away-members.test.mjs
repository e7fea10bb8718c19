// A member whose connection dropped is away, not gone: it still holds its place (a second
// publisher is refused, a full stream stays full) until it resumes or its grace period ends;
// then its departure is announced exactly once, to those who were told of its arrival.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from '../support/server.mjs';
import { startProxy } from '../support/tcp-proxy.mjs';
import { join, joinThrough, resume, resumePath, refused, assertSilent } from '../support/resume.mjs';

const MAX_SUBSCRIBERS = 3;

let server;
let proxy;
before(async () => {
  server = await startServer({
    bindings: { RESUME_GRACE_SECONDS: '3', MAX_SUBSCRIBERS: String(MAX_SUBSCRIBERS) },
  });
  proxy = await startProxy(Number(server.url.port));
});
after(async () => {
  await proxy?.close();
  await server?.stop();
});

const event = (type, id) => ({ method: 'EVENT', data: { type, id } });

test('subscribers that do not come back depart once each, when their own grace period ends', async () => {
  const p = '/away/subscribers';
  const pub = await join(server.wsBase, p, 'publish');
  const { client: s1, link: l1 } = await joinThrough(proxy, p, 'subscribe');
  const { client: s2, link: l2 } = await joinThrough(proxy, p, 'subscribe');
  const stays = await join(server.wsBase, p, 'subscribe');
  for (const s of [s1, s2, stays]) {
    await pub.event('subscribed', s.id);
    await s.event('published', pub.id);
  }

  l1.sever();
  // Two grace periods ending apart: the alarm is armed again for the second.
  await sleep(500);
  l2.sever();
  assert.deepEqual(await pub.next(() => true, 10_000), event('unsubscribed', s1.id));
  assert.deepEqual(await pub.next(() => true, 10_000), event('unsubscribed', s2.id));
  await assertSilent([pub, stays], 500, 'each departure is announced once, to the publisher only');
  for (const s of [s1, s2]) {
    assert.deepEqual(await refused(server.wsBase, resumePath(p, s.resume), 'subscribe'), {
      code: 'resume-expired',
      close: 4031,
    });
  }
  await Promise.all([pub, stays].map((c) => c.close()));
});

test('a publisher that does not come back departs once, and the stream is free again', async () => {
  const p = '/away/publisher';
  const { client: pub, link } = await joinThrough(proxy, p, 'publish');
  const subs = [await join(server.wsBase, p, 'subscribe'), await join(server.wsBase, p, 'subscribe')];
  for (const s of subs) await s.event('published', pub.id);

  link.sever();
  for (const s of subs) assert.deepEqual(await s.next(() => true, 10_000), event('unpublished', pub.id));
  await assertSilent(subs, 500, 'the departure is announced once');
  const fresh = await join(server.wsBase, p, 'publish');
  for (const s of subs) assert.deepEqual(await s.next(), event('published', fresh.id));
  await Promise.all([fresh, ...subs].map((c) => c.close()));
});

test('an away member still counts: a second publisher is refused, a full stream stays full', async () => {
  const p = '/away/counts';
  const { client: pub, link: pubLink } = await joinThrough(proxy, p, 'publish');
  const { client: away, link: subLink } = await joinThrough(proxy, p, 'subscribe');
  const others = [];
  for (let i = 1; i < MAX_SUBSCRIBERS; i++) others.push(await join(server.wsBase, p, 'subscribe'));
  for (const s of [away, ...others]) await s.event('published', pub.id);

  pubLink.sever();
  subLink.sever();
  await Promise.all([pub.closed, away.closed]);
  assert.deepEqual(await refused(server.wsBase, p, 'publish'), { code: 'publisher-exists', close: 4001 });
  assert.deepEqual(await refused(server.wsBase, p, 'subscribe'), { code: 'stream-full', close: 4020 });

  // Both take their places back; the stream is as it was, and nobody heard a thing.
  const pubBack = await resume(server.wsBase, p, 'publish', pub.resume, pub.id);
  const awayBack = await resume(server.wsBase, p, 'subscribe', away.resume, away.id);
  await assertSilent([pubBack, awayBack, ...others], 300, 'the absences and refusals were invisible');
  pubBack.send({ method: 'NOTIFY', to: away.id, data: 'welcome back' });
  assert.deepEqual(await awayBack.next(), { method: 'NOTIFY', from: pub.id, data: 'welcome back' });
  await Promise.all([pubBack, awayBack, ...others].map((c) => c.close()));
});
