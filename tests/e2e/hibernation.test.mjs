// The local runtime evicts an idle Durable Object after ~10 s while its sockets stay open. Every
// handler must work after the object is rebuilt from its sockets' tags and attachments.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from '../support/server.mjs';
import { Client } from '../support/client.mjs';

// Idleness is the point here, so this wait is deliberate: past the runtime's ~10 s eviction.
const IDLE_MS = 12_000;
const WOKE = /"event":"woke".*"connections":(\d+)/;

let server;
before(async () => {
  server = await startServer();
});
after(() => server.stop());

/** Idles until evicted, then sends `poke` and resolves with the wake-up log line it caused. */
async function idleThenWake(poke) {
  const before = server.logs.filter((l) => WOKE.test(l)).length;
  await sleep(IDLE_MS);
  assert.equal(server.logs.filter((l) => WOKE.test(l)).length, before, 'woke while idle');
  const woke = server.nextLog(WOKE, 10_000);
  poke();
  return woke;
}

test('after eviction: relay, joins and leaves work, with the same ids, each announced once', async () => {
  const p = '/hibernation/1';
  const pub = await Client.join(server.wsBase, p, 'publish');
  const s1 = await Client.join(server.wsBase, p, 'subscribe');
  const s2 = await Client.join(server.wsBase, p, 'subscribe');
  await pub.event('subscribed', s1.id);
  await pub.event('subscribed', s2.id);
  await s1.event('published', pub.id);
  await s2.event('published', pub.id);

  // Wake on a relay: the rebuilt object still knows who is who.
  const line = await idleThenWake(() => s1.send({ method: 'NOTIFY', to: pub.id, data: 'after sleep' }));
  assert.equal(WOKE.exec(line)[1], '3');
  assert.deepEqual(await pub.next(), { method: 'NOTIFY', from: s1.id, data: 'after sleep' });
  pub.send({ method: 'NOTIFY', to: s2.id, data: 'back' });
  assert.deepEqual(await s2.next(), { method: 'NOTIFY', from: pub.id, data: 'back' });

  // Wake on a leave: announced once to the publisher.
  await idleThenWake(() => s1.ws.close(1000, 'bye'));
  await pub.event('unsubscribed', s1.id);
  await s1.closed;

  // Wake on a join: the newcomer learns the same publisher id.
  let s3;
  await idleThenWake(() => {
    s3 = Client.join(server.wsBase, p, 'subscribe');
  });
  s3 = await s3;
  await s3.event('published', pub.id);
  await pub.event('subscribed', s3.id);
  assert.ok(await s2.quiet(200), 'a subscriber heard about another');

  // Wake on the publisher leaving: each remaining subscriber hears it once.
  await idleThenWake(() => pub.ws.close());
  await s2.event('unpublished', pub.id);
  await s3.event('unpublished', pub.id);
  assert.ok(await s2.quiet(300));
  assert.ok(await s3.quiet(0));
  assert.ok(await pub.quiet(0), `the publisher heard more: ${JSON.stringify(pub.frames)}`);
  await Promise.all([s2, s3].map((c) => c.close()));
});
