// The test client's own contract, with a fake socket (no runtime): silence means nothing unread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../support/client.mjs';

/** A stand-in for a WebSocket that the test makes "receive" frames. */
function fakeSocket() {
  const ws = new EventTarget();
  ws.receive = (frame) => ws.dispatchEvent(Object.assign(new Event('message'), { data: JSON.stringify(frame) }));
  return ws;
}

test('an unread frame that arrived before the wait makes quiet() false', async () => {
  const ws = fakeSocket();
  const client = new Client(ws);
  ws.receive({ method: 'EVENT', data: { type: 'subscribed', id: 'a' } });
  // Nothing arrives during the wait: a before/after count would call this silence.
  assert.equal(await client.quiet(20), false);
  assert.equal(await client.quiet(0), false, 'still unread');
  await client.event('subscribed', 'a');
  assert.equal(await client.quiet(0), true, 'read, so nothing is left');
});

test('a frame arriving during the wait makes quiet() false', async () => {
  const ws = fakeSocket();
  const client = new Client(ws);
  setTimeout(() => ws.receive({ method: 'NOTIFY', from: 'b', data: 1 }), 5);
  assert.equal(await client.quiet(50), false);
});

test('next() takes the first matching frame and leaves the others unread', async () => {
  const ws = fakeSocket();
  const client = new Client(ws);
  ws.receive({ n: 1 });
  ws.receive({ n: 2 });
  assert.deepEqual(await client.next((f) => f.n === 2), { n: 2 });
  assert.deepEqual(client.frames, [{ n: 1 }]);
  assert.equal(await client.quiet(0), false);
  assert.deepEqual(await client.next(), { n: 1 });
  assert.equal(await client.quiet(0), true);
});
