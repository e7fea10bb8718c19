// Leaving: the close handshake completes, and every kind of departure is announced once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { Client } from '../support/client.mjs';
import { rawUpgrade, frameReader, clientFrame } from '../support/raw.mjs';

let server;
let n = 0;
// A connection cut without a close frame waits out the resume grace period before its departure
// is announced: one second here, so the announcement comes within each wait below.
before(async () => {
  server = await startServer({ bindings: { RESUME_GRACE_SECONDS: '1' } });
});
after(() => server.stop());

async function withPublisher() {
  const p = `/close/${++n}`;
  const pub = await Client.join(server.wsBase, p, 'publish');
  return { p, pub };
}

// node's WebSocket (undici) sometimes reports 1006 for a clean client-initiated close even when
// the server's close frame arrived, so the handshake is checked on the raw bytes instead.
test('a client closing with its own code gets that code echoed in a close frame', async () => {
  const { p, pub } = await withPublisher();
  for (const [code, reason] of [
    [1000, 'done'],
    [4321, 'custom'],
    [1005, ''],
  ]) {
    const sub = await rawSubscriber(p, pub);
    const payload = code === 1005 ? Buffer.alloc(0) : Buffer.concat([u16(code), Buffer.from(reason)]);
    sub.socket.write(clientFrame(8, payload));
    const echoed = await sub.reader.nextClose();
    // 1005 means "no code" and may not be sent: the server answers 1000.
    assert.deepEqual(echoed, code === 1005 ? { code: 1000, reason: '' } : { code, reason });
    await pub.event('unsubscribed', sub.id);
    sub.socket.destroy();
  }
  assert.ok(await pub.quiet(300));
  await pub.close();
});

function u16(n) {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** A raw subscriber: upgraded socket plus its id. */
async function rawSubscriber(p, pub) {
  const { status, socket, rest } = await rawUpgrade(server.url, `${p}?mode=subscribe`);
  assert.equal(status, 101);
  const reader = frameReader(socket, rest);
  const created = await reader.next();
  const id = created.data.id;
  await pub.event('subscribed', id);
  return { socket, reader, id };
}

test('a TCP close without a close frame is announced exactly once', async () => {
  const { p, pub } = await withPublisher();
  const { socket, id } = await rawSubscriber(p, pub);
  socket.end();
  await pub.event('unsubscribed', id);
  assert.ok(await pub.quiet(500), 'announced more than once');
  await pub.close();
});

test('a TCP reset is announced exactly once', async () => {
  const { p, pub } = await withPublisher();
  const { socket, id } = await rawSubscriber(p, pub);
  socket.resetAndDestroy();
  await pub.event('unsubscribed', id);
  assert.ok(await pub.quiet(500), 'announced more than once');
  await pub.close();
});

test('a publisher cut off abruptly is announced to every subscriber once', async () => {
  const p = `/close/${++n}`;
  const subs = [await Client.join(server.wsBase, p, 'subscribe'), await Client.join(server.wsBase, p, 'subscribe')];
  const { status, socket, rest } = await rawUpgrade(server.url, `${p}?mode=publish`);
  assert.equal(status, 101);
  const reader = frameReader(socket, rest);
  const id = (await reader.next()).data.id;
  for (const s of subs) await s.event('published', id);
  socket.resetAndDestroy();
  for (const s of subs) await s.event('unpublished', id);
  for (const s of subs) assert.ok(await s.quiet(300));
  // The path is free again: a new publisher is accepted (rtclite never frees it).
  const pub2 = await Client.join(server.wsBase, p, 'publish');
  for (const s of subs) await s.event('published', pub2.id);
  await Promise.all([...subs, pub2].map((c) => c.close()));
});

test('a raw client relays like any other', async () => {
  const { p, pub } = await withPublisher();
  const { socket, reader, id } = await rawSubscriber(p, pub);
  socket.write(clientFrame(1, JSON.stringify({ method: 'NOTIFY', to: pub.id, data: 'raw' })));
  assert.deepEqual(await pub.next(), { method: 'NOTIFY', from: id, data: 'raw' });
  pub.send({ method: 'NOTIFY', to: id, data: 'back' });
  assert.deepEqual(await reader.next((f) => f.method === 'NOTIFY'), { method: 'NOTIFY', from: pub.id, data: 'back' });
  socket.destroy();
  await pub.event('unsubscribed', id);
  await pub.close();
});
