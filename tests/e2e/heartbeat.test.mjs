// The heartbeat: a text "ping" is answered "pong" by the runtime itself, so a client can check
// its connection while the stream's Durable Object stays hibernated. The Worker logs a "woke"
// event whenever an evicted object is rebuilt for an event; the local
// runtime evicts an object after about 10 s without events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { join } from '../support/access.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const WAKE = /"event":"woke".*"connections":(\d+)/;

let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

test('ping gets pong and nothing else, even mid-conversation', async () => {
  const publisher = await join(server.wsBase, '/heartbeat/awake', { mode: 'publish' });
  const subscriber = await join(server.wsBase, '/heartbeat/awake', { mode: 'subscribe' });
  await publisher.event('subscribed', subscriber.id);
  await subscriber.event('published', publisher.id);
  subscriber.send('ping');
  assert.equal(await subscriber.next(), 'pong');
  assert.ok(await publisher.quiet(200), 'a ping is not relayed or announced');
  // Only the exact text is a heartbeat: anything else is a protocol frame.
  subscriber.send('PING');
  assert.match((await subscriber.next()).reason, /^invalid-json: /);
  publisher.close();
  subscriber.close();
});

test('pings are answered while the object stays hibernated; a real frame wakes it', async () => {
  const path = '/heartbeat/asleep';
  const publisher = await join(server.wsBase, path, { mode: 'publish' });
  const subscriber = await join(server.wsBase, path, { mode: 'subscribe' });
  await publisher.event('subscribed', subscriber.id);
  await subscriber.event('published', publisher.id);
  const wakes = () => server.logs.filter((l) => WAKE.test(l)).length;

  await sleep(12_000); // idle: the runtime evicts the object
  const before = wakes();
  for (let i = 0; i < 5; i++) {
    publisher.send('ping');
    subscriber.send('ping');
    assert.equal(await publisher.next(), 'pong');
    assert.equal(await subscriber.next(), 'pong');
    await sleep(1000);
  }
  assert.equal(wakes(), before, 'no ping woke the object');

  // A protocol frame is delivered to the object, which must be rebuilt: the wake-up is logged,
  // proving it was evicted all along the pings.
  subscriber.send({ method: 'NOTIFY', to: publisher.id, data: 'awake' });
  assert.equal((await publisher.next()).data, 'awake');
  for (let waited = 0; wakes() === before && waited < 5000; waited += 50) await sleep(50);
  assert.equal(wakes(), before + 1, 'the frame woke the evicted object');
  assert.equal(server.logs.filter((l) => WAKE.test(l)).at(-1).match(WAKE)[1], '2');
  publisher.close();
  subscriber.close();
});
