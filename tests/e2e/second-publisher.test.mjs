// At most one publisher per stream, even when many race.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { Client } from '../support/client.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(() => server.stop());

test('a second publisher is told why and closed with 4001; nothing else changes', async () => {
  const p = '/second-publisher/1';
  const pub = await Client.join(server.wsBase, p, 'publish');
  const sub = await Client.join(server.wsBase, p, 'subscribe');
  await sub.event('published', pub.id);
  await pub.event('subscribed', sub.id);

  const second = await Client.open(server.wsBase, p, 'publish');
  const frame = await second.next();
  assert.equal(frame.code, 'failed');
  assert.match(frame.reason, /^publisher-exists: /);
  assert.deepEqual(await second.closed, { code: 4001, reason: 'publisher-exists' });
  assert.ok(await sub.quiet(200), 'the subscriber heard about the refused publisher');
  assert.ok(await pub.quiet(0));

  // The first publisher still relays both ways.
  pub.send({ method: 'NOTIFY', to: sub.id, data: 'hello' });
  assert.deepEqual(await sub.next(), { method: 'NOTIFY', from: pub.id, data: 'hello' });
  await Promise.all([pub, sub].map((c) => c.close()));
});

test('of ten publishers racing on a fresh stream exactly one wins', async () => {
  const p = '/second-publisher/race';
  const sub = await Client.join(server.wsBase, p, 'subscribe');
  const racers = await Promise.all(Array.from({ length: 10 }, () => Client.open(server.wsBase, p, 'publish')));
  const firsts = await Promise.all(racers.map((c) => c.next()));
  const winners = racers.filter((_, i) => firsts[i].method === 'EVENT' && firsts[i].data.type === 'created');
  const losers = racers.filter((_, i) => firsts[i].code === 'failed');
  assert.equal(winners.length, 1);
  assert.equal(losers.length, 9);
  for (const loser of losers) assert.equal((await loser.closed).code, 4001);
  const winnerId = firsts.find((f) => f.method === 'EVENT').data.id;
  assert.deepEqual(await sub.next(), { method: 'EVENT', data: { type: 'published', id: winnerId } });
  assert.ok(await sub.quiet(200), 'the subscriber heard about more than one publisher');
  await Promise.all([sub, winners[0]].map((c) => c.close()));
});
