// The reusable client module against the real local runtime: events, requests, errors,
// reconnect with a new id, and the heartbeat.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { connect, streamUrl, hashPath, isPermanentRefusal } from '../../public/js/streams-client.js';

let server;
let n = 0;
const clients = [];
before(async () => {
  server = await startServer();
});
after(async () => {
  for (const c of clients) c.close();
  await server.stop();
});

const url = (path) => `${server.wsBase}${path}`;
function open(path, mode, options) {
  const client = connect(url(path), mode, { minBackoffMs: 50, maxBackoffMs: 200, ...options });
  clients.push(client);
  return client;
}
/** Resolves with the detail of the next `type` event. */
const once = (client, type, match = () => true) =>
  new Promise((resolve) => {
    const listener = (e) => {
      if (!match(e.detail)) return;
      client.removeEventListener(type, listener);
      resolve(e.detail);
    };
    client.addEventListener(type, listener);
  });

test('events: created, published/subscribed, notify with from, unsubscribed/unpublished', async () => {
  const path = `/client/${++n}`;
  const sub = open(path, 'subscribe');
  const { id: subId } = await once(sub, 'created');
  assert.equal(sub.id, subId);
  const published = once(sub, 'published');
  const pub = open(path, 'publish');
  const [{ id: pubId }, subscribed] = await Promise.all([once(pub, 'created'), once(pub, 'subscribed')]);
  assert.equal(subscribed.id, subId);
  assert.equal((await published).id, pubId);

  const notified = once(pub, 'notify');
  assert.equal(sub.notify(pubId, { hello: 1 }), true);
  assert.deepEqual(await notified, {
    from: subId,
    data: { hello: 1 },
    message: { method: 'NOTIFY', from: subId, data: { hello: 1 } },
  });

  const left = once(pub, 'unsubscribed');
  const closed = once(sub, 'close');
  sub.close();
  assert.equal((await left).id, subId);
  assert.equal((await closed).willReconnect, false);

  const sub2 = open(path, 'subscribe');
  await once(sub2, 'created');
  await once(sub2, 'published');
  const gone = once(sub2, 'unpublished');
  pub.close();
  assert.equal((await gone).id, pubId);
});

test('getConfiguration resolves with the ICE servers; errors are events with their code', async () => {
  const client = open(`/client/${++n}`, 'subscribe');
  await once(client, 'created');
  const conf = await client.getConfiguration();
  assert.deepEqual(conf.iceServers, [{ urls: ['stun:stun.cloudflare.com:3478'] }]);
  const errored = once(client, 'error');
  client.ws.send('not json');
  const error = await errored;
  assert.equal(error.code, 'invalid-json');
  assert.match(error.reason, /^invalid-json: /);
});

test('a refused second publisher gets an error event and retries with backoff until the stream is free', async () => {
  const path = `/client/${++n}`;
  const first = open(path, 'publish');
  await once(first, 'created');
  const second = open(path, 'publish');
  const [refused, closed] = await Promise.all([once(second, 'error'), once(second, 'close')]);
  assert.equal(refused.code, 'publisher-exists');
  assert.deepEqual([closed.code, closed.willReconnect], [4001, true]);
  const retried = once(second, 'created');
  first.close();
  // The retry succeeds once the first publisher is gone.
  assert.match((await retried).id, /^[0-9a-f]{24}$/);
});

test('permanent refusals are not retried', async () => {
  assert.equal(isPermanentRefusal(4003), true);
  assert.equal(isPermanentRefusal(4001), false);
  const client = open('/sha1/not-a-hash', 'subscribe');
  const closed = await once(client, 'close');
  assert.deepEqual([closed.code, closed.willReconnect], [4003, false]);
});

test('after the server drops the connection the client reconnects with a new id', async () => {
  const path = `/client/${++n}`;
  const pub = open(path, 'publish');
  await once(pub, 'created');
  const sub = open(path, 'subscribe');
  const { id: firstId } = await once(sub, 'created');
  const resubscribed = once(pub, 'subscribed', (d) => d.id !== firstId);
  // The server closes a flooding connection (4022): an abnormal end the client recovers from.
  const closed = once(sub, 'close');
  const again = once(sub, 'created');
  for (let i = 0; i < 1200; i++) sub.ws.send('{"method":"GET","resource":"/nope"}');
  assert.equal((await closed).willReconnect, true);
  const { id: secondId } = await again;
  assert.notEqual(secondId, firstId);
  assert.equal((await resubscribed).id, secondId);
});

test('the heartbeat gets pongs and keeps the connection', async () => {
  const client = open(`/client/${++n}`, 'subscribe', { heartbeatMs: 100 });
  await once(client, 'created');
  const pongs = await new Promise((resolve) => {
    let count = 0;
    client.ws.addEventListener('message', (e) => {
      if (e.data === 'pong' && ++count === 5) resolve(count);
    });
  });
  assert.equal(pongs, 5);
  assert.equal(client.ws.readyState, 1);
  assert.equal(client.state, 'connected');
});

test('helpers: stream URLs and hash paths', async () => {
  assert.equal(streamUrl('/a/b', new URL('https://x.example/page?q=1')).toString(), 'wss://x.example/a/b');
  assert.equal(streamUrl('a', new URL('http://127.0.0.1:8787/')).toString(), 'ws://127.0.0.1:8787/a');
  // printf %s /streams/1234 | sha1sum
  assert.equal(await hashPath('sha1', '/streams/1234'), '/sha1/04e5383618cc0f1dd6a5a433ba49396eccd080b4');
  assert.equal(
    await hashPath('sha256', 'streams/1234'),
    '/sha256/5d92fc617414ac097bff0100e2cff9867550172aaa4da3ac2bc870d3dde89c60',
  );
});
