// NOTIFY over the wire: directed, with the sender's true id.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { Client } from '../support/client.mjs';

let server;
let n = 0;
before(async () => {
  server = await startServer();
});
after(() => server.stop());

async function stream() {
  const p = `/relay/${++n}`;
  const pub = await Client.join(server.wsBase, p, 'publish');
  const s1 = await Client.join(server.wsBase, p, 'subscribe');
  const s2 = await Client.join(server.wsBase, p, 'subscribe');
  await s1.event('published', pub.id);
  await s2.event('published', pub.id);
  await pub.event('subscribed', s1.id);
  await pub.event('subscribed', s2.id);
  return { pub, s1, s2, all: [pub, s1, s2] };
}

test('publisher to one subscriber: to removed, from injected, others hear nothing', async () => {
  const { pub, s1, s2, all } = await stream();
  const data = { type: 'offer', sdp: 'v=0\r\n' };
  pub.send({ method: 'NOTIFY', to: s1.id, data });
  assert.deepEqual(await s1.next(), { method: 'NOTIFY', from: pub.id, data });
  assert.ok(await s2.quiet(200));
  await Promise.all(all.map((c) => c.close()));
});

test('subscriber to publisher, with a spoofed from overwritten', async () => {
  const { pub, s1, s2, all } = await stream();
  s2.send({ method: 'NOTIFY', to: pub.id, from: s1.id, data: { candidate: 'c' }, extra: 1 });
  assert.deepEqual(await pub.next(), { method: 'NOTIFY', from: s2.id, data: { candidate: 'c' }, extra: 1 });
  await Promise.all(all.map((c) => c.close()));
});

test('an unknown target gets the sender the departure event for that id', async () => {
  const { pub, s1, s2, all } = await stream();
  pub.send({ method: 'NOTIFY', to: 'feedfeedfeedfeedfeedfeed', data: 1 });
  assert.deepEqual(await pub.next(), { method: 'EVENT', data: { type: 'unsubscribed', id: 'feedfeedfeedfeedfeedfeed' } });
  pub.send({ method: 'NOTIFY', to: 12345, data: 1 });
  assert.deepEqual(await pub.next(), { method: 'EVENT', data: { type: 'unsubscribed', id: '12345' } });
  s1.send({ method: 'NOTIFY', to: 'gone', data: 1 });
  assert.deepEqual(await s1.next(), { method: 'EVENT', data: { type: 'unpublished', id: 'gone' } });
  assert.ok(await s2.quiet(200));
  await Promise.all(all.map((c) => c.close()));
});

test('a subscriber cannot reach another subscriber', async () => {
  const { s1, s2, pub, all } = await stream();
  s1.send({ method: 'NOTIFY', to: s2.id, data: 'psst' });
  assert.deepEqual(await s1.next(), { method: 'EVENT', data: { type: 'unpublished', id: s2.id } });
  assert.ok(await s2.quiet(200));
  assert.ok(await pub.quiet(0));
  await Promise.all(all.map((c) => c.close()));
});

test('a message to a peer that left reaches nobody', async () => {
  const { pub, s1, s2, all } = await stream();
  await s1.close();
  await pub.event('unsubscribed', s1.id);
  pub.send({ method: 'NOTIFY', to: s1.id, data: 1 });
  assert.deepEqual(await pub.next(), { method: 'EVENT', data: { type: 'unsubscribed', id: s1.id } });
  assert.ok(await s2.quiet(200));
  await Promise.all(all.map((c) => c.close()));
});

test('NOTIFY to self is an error', async () => {
  const { pub, all } = await stream();
  pub.send({ method: 'NOTIFY', to: pub.id, data: 1, msg_id: 4 });
  const frame = await pub.next();
  assert.equal(frame.code, 'failed');
  assert.equal(frame.msg_id, 4);
  assert.match(frame.reason, /^notify-self: /);
  await Promise.all(all.map((c) => c.close()));
});

test('GET /peerconnection answers with msg_id and the default ICE servers', async () => {
  const { s1, all } = await stream();
  s1.send({ method: 'GET', resource: '/peerconnection', msg_id: 1 });
  assert.deepEqual(await s1.next(), {
    msg_id: 1,
    code: 'success',
    result: { configuration: { iceServers: [{ urls: ['stun:stun.cloudflare.com:3478'] }] } },
  });
  await Promise.all(all.map((c) => c.close()));
});

test('paths are isolated from each other', async () => {
  const a = await stream();
  const b = await stream();
  a.pub.send({ method: 'NOTIFY', to: b.s1.id, data: 'cross' });
  assert.deepEqual(await a.pub.next(), { method: 'EVENT', data: { type: 'unsubscribed', id: b.s1.id } });
  await a.s1.close();
  await a.pub.event('unsubscribed', a.s1.id);
  for (const c of b.all) assert.ok(await c.quiet(100), 'another stream heard about it');
  await Promise.all([...a.all, ...b.all].map((c) => c.close()));
});
