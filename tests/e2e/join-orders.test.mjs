// Who hears about whom, over the wire, in both join orders.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { Client } from '../support/client.mjs';

let server;
let n = 0;
const path = () => `/join-orders/${++n}`;
before(async () => {
  server = await startServer();
});
after(() => server.stop());

test('ids are 24 lowercase hex digits and distinct', async () => {
  const p = path();
  const clients = [await Client.join(server.wsBase, p, 'publish')];
  for (let i = 0; i < 4; i++) clients.push(await Client.join(server.wsBase, p, 'subscribe'));
  for (const c of clients) assert.match(c.id, /^[0-9a-f]{24}$/);
  assert.equal(new Set(clients.map((c) => c.id)).size, clients.length);
  await Promise.all(clients.map((c) => c.close()));
});

test('subscribers first, then the publisher', async () => {
  const p = path();
  const s1 = await Client.join(server.wsBase, p, 'subscribe');
  const s2 = await Client.join(server.wsBase, p, 'subscribe');
  assert.ok(await s1.quiet(200), 'a subscriber heard about another subscriber');
  const pub = await Client.open(server.wsBase, p, 'publish');
  const created = await pub.next();
  assert.equal(created.data.type, 'created');
  pub.id = created.data.id;
  const announced = [await pub.next(), await pub.next()].map((f) => f.data);
  assert.deepEqual(
    announced.map((d) => d.type),
    ['subscribed', 'subscribed'],
  );
  assert.deepEqual(new Set(announced.map((d) => d.id)), new Set([s1.id, s2.id]));
  assert.deepEqual(await s1.next(), { method: 'EVENT', data: { type: 'published', id: pub.id } });
  assert.deepEqual(await s2.next(), { method: 'EVENT', data: { type: 'published', id: pub.id } });
  assert.ok(await pub.quiet(200));
  assert.ok(await s1.quiet(0));
  await Promise.all([s1, s2, pub].map((c) => c.close()));
});

test('publisher first, then subscribers', async () => {
  const p = path();
  const pub = await Client.join(server.wsBase, p, 'publish');
  const s1 = await Client.open(server.wsBase, p, 'subscribe');
  const created = await s1.next();
  assert.equal(created.data.type, 'created');
  s1.id = created.data.id;
  assert.deepEqual(await s1.next(), { method: 'EVENT', data: { type: 'published', id: pub.id } });
  assert.deepEqual(await pub.next(), { method: 'EVENT', data: { type: 'subscribed', id: s1.id } });
  const s2 = await Client.join(server.wsBase, p, 'subscribe');
  await s2.event('published', pub.id);
  await pub.event('subscribed', s2.id);
  // Nobody is told about itself, and s1 is not told about s2.
  assert.ok(await s1.quiet(200), JSON.stringify(s1.frames));
  assert.ok(await pub.quiet(0), JSON.stringify(pub.frames));
  assert.ok(await s2.quiet(0), JSON.stringify(s2.frames));
  await Promise.all([s1, s2, pub].map((c) => c.close()));
});

test('departures: subscriber to the publisher, publisher to every subscriber', async () => {
  const p = path();
  const pub = await Client.join(server.wsBase, p, 'publish');
  const s1 = await Client.join(server.wsBase, p, 'subscribe');
  const s2 = await Client.join(server.wsBase, p, 'subscribe');
  await pub.event('subscribed', s1.id);
  await pub.event('subscribed', s2.id);
  await s2.event('published', pub.id);
  await s1.close();
  await pub.event('unsubscribed', s1.id);
  assert.ok(await s2.quiet(200), `s2 heard about s1 leaving: ${JSON.stringify(s2.frames)}`);
  await pub.close();
  await s2.event('unpublished', pub.id);
  // A new publisher is announced to the remaining subscriber.
  const pub2 = await Client.join(server.wsBase, p, 'publish');
  await s2.event('published', pub2.id);
  await pub2.event('subscribed', s2.id);
  assert.notEqual(pub2.id, pub.id, 'a publisher id was reused');
  await Promise.all([s2, pub2].map((c) => c.close()));
});
