// Metrics on Workers Analytics Engine (issue 13, item 3): the data points the Worker writes
// for a scripted session are exactly its events, through a METRICS binding that records them
// (tests/support/server.mjs); relays are counted into `relay` points, never one per frame.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { Client } from '../support/client.mjs';
import { rawUpgrade, frameReader } from '../support/raw.mjs';

let server;
before(async () => {
  server = await startServer({
    metrics: true,
    bindings: {
      RESUME_GRACE_SECONDS: '2',
      // The frame-count flush below sends 1,500 relays at once.
      FRAME_RATE: '100000',
      FRAME_BURST: '1000000',
      RELAY_BYTES_PER_SECOND: '0',
    },
  });
});
after(() => server?.stop());

/** A data point as the layout in src/metrics.rs has it. */
const point = (event, stream, role, code, [count, bytes, subscribers, live, close]) => ({
  indexes: [stream],
  blobs: [event, stream, role, code],
  doubles: [count, bytes, subscribers, live, close],
});

/** Joins and records the exact text of every NOTIFY the client receives. */
async function joinCounting(path, mode) {
  const client = await Client.join(server.wsBase, path, mode);
  client.relayed = [];
  client.ws.addEventListener('message', (e) => {
    if (String(e.data).includes('"NOTIFY"')) client.relayed.push(String(e.data));
  });
  return client;
}

/** Joins (or resumes) over raw TCP, so the connection can be cut without a close frame. */
async function joinRaw(pathAndQuery) {
  const up = await rawUpgrade(server.url, pathAndQuery);
  assert.equal(up.status, 101);
  const created = await frameReader(up.socket, up.rest).next();
  return { id: created.data.id, resume: created.data.resume, drop: () => up.socket.resetAndDestroy() };
}

const bytes = (texts) => texts.reduce((n, t) => n + Buffer.byteLength(t), 0);

/** Waits for the `n`th data point and checks all of them so far, in order. */
async function expectPoints(expected) {
  await server.waitForPoints(expected.length, 15_000);
  assert.deepEqual(server.points.slice(0, expected.length), expected);
}

test('the data points of a scripted session are exactly its events', async () => {
  const S = '/metrics/session';
  const expected = [];
  const pub = await joinCounting(S, 'publish');
  expected.push(point('join', S, 'pub', '', [1, 0, 0, 1, 0]));
  const a = await joinCounting(S, 'subscribe');
  expected.push(point('join', S, 'sub', '', [1, 0, 1, 1, 0]));
  const b = await joinRaw(`${S}?mode=subscribe`);
  expected.push(point('join', S, 'sub', '', [1, 0, 2, 1, 0]));
  await expectPoints(expected);

  // Refused by the stream (a second publisher), and by the Worker before any stream (a
  // publisher on a hash path, which names no stream it may have).
  const second = await Client.open(server.wsBase, S, 'publish');
  assert.equal((await second.closed).code, 4001);
  expected.push(point('refuse', S, 'pub', 'publisher-exists', [1, 0, 0, 0, 4001]));
  const hashed = await Client.open(server.wsBase, `/sha1/${'ab'.repeat(20)}`, 'publish');
  assert.equal((await hashed.closed).code, 4002);
  expected.push(point('refuse', '', 'pub', 'hash-path-publish', [1, 0, 0, 0, 4002]));
  await expectPoints(expected);

  // Four relays, both ways: counted, and written as one point before the next event.
  for (const n of [1, 2, 3]) pub.send({ method: 'NOTIFY', to: a.id, data: { n, sdp: 'x'.repeat(100 * n) } });
  a.send({ method: 'NOTIFY', to: pub.id, data: { answer: true } });
  for (let i = 0; i < 3; i++) await a.next((f) => f?.method === 'NOTIFY');
  await pub.next((f) => f?.method === 'NOTIFY');
  // A frame that is no relay (a NOTIFY to nobody) counts for nothing.
  pub.send({ method: 'NOTIFY', to: 'nobody', data: {} });
  await pub.event('unsubscribed', 'nobody');
  await a.close(1000);
  await pub.event('unsubscribed', a.id);
  expected.push(point('relay', S, '', '', [4, bytes([...a.relayed, ...pub.relayed]), 0, 0, 0]));
  expected.push(point('leave', S, 'sub', '', [1, 0, 1, 1, 1000]));
  await expectPoints(expected);

  // A drop, a resume, a takeover of a zombie, and a grace period that ends.
  b.drop();
  expected.push(point('away', S, 'sub', '', [1, 0, 1, 1, 1006]));
  await expectPoints(expected);
  const back = await Client.open(server.wsBase, `${S}?resume=${encodeURIComponent(b.resume)}`, 'subscribe');
  const created = await back.event('created');
  expected.push(point('resume', S, 'sub', '', [1, 0, 1, 1, 0]));
  await expectPoints(expected);
  const again = await joinRaw(`${S}?mode=subscribe&resume=${encodeURIComponent(created.data.resume)}`);
  assert.equal(again.id, b.id);
  assert.match((await back.next()).reason, /^replaced: /);
  expected.push(point('resume', S, 'sub', '', [1, 0, 1, 1, 0]));
  expected.push(point('close', S, 'sub', 'replaced', [1, 0, 1, 1, 4032]));
  await expectPoints(expected);
  again.drop();
  expected.push(point('away', S, 'sub', '', [1, 0, 1, 1, 1006]));
  expected.push(point('leave', S, 'sub', '', [1, 0, 0, 1, 0]));
  await expectPoints(expected);

  await pub.close(1000);
  expected.push(point('leave', S, 'pub', '', [1, 0, 0, 0, 1000]));
  await expectPoints(expected);

  // Nothing else was written: the next point is the next event's.
  await Client.join(server.wsBase, '/metrics/marker', 'publish');
  await expectPoints([...expected, point('join', '/metrics/marker', 'pub', '', [1, 0, 0, 1, 0])]);
});

test('relays become a point after a pause, or every 1,000 frames, never one per frame', async () => {
  const T = '/metrics/relays';
  const from = server.points.length;
  const pub = await joinCounting(T, 'publish');
  const sub = await joinCounting(T, 'subscribe');
  const sent = (n) => {
    for (let i = 0; i < n; i++) pub.send({ method: 'NOTIFY', to: sub.id, data: i });
  };
  // Two relays and silence: one point, written by the timer with no other event to wait for.
  sent(2);
  await server.waitForPoints(from + 3, 15_000);
  assert.deepEqual(server.points.slice(from), [
    point('join', T, 'pub', '', [1, 0, 0, 1, 0]),
    point('join', T, 'sub', '', [1, 0, 1, 1, 0]),
    point('relay', T, '', '', [2, bytes(sub.relayed), 0, 0, 0]),
  ]);
  // 1,500 at once: a point at 1,000, and the other 500 after the pause.
  const before = sub.relayed.length;
  sent(1500);
  await server.waitForPoints(from + 5, 15_000);
  const burst = sub.relayed.slice(before);
  assert.equal(burst.length, 1500);
  assert.deepEqual(server.points.slice(from + 3), [
    point('relay', T, '', '', [1000, bytes(burst.slice(0, 1000)), 0, 0, 0]),
    point('relay', T, '', '', [500, bytes(burst.slice(1000)), 0, 0, 0]),
  ]);
  sub.close();
  pub.close();
});

test('without the binding nothing is written and nothing fails', async () => {
  const plain = await startServer();
  try {
    const pub = await Client.join(plain.wsBase, '/metrics/none', 'publish');
    const sub = await Client.join(plain.wsBase, '/metrics/none', 'subscribe');
    pub.send({ method: 'NOTIFY', to: sub.id, data: 'x' });
    await sub.next((f) => f?.method === 'NOTIFY');
    await sub.close();
    await pub.event('unsubscribed', sub.id);
    await pub.close();
    assert.deepEqual(plain.points, []);
    assert.deepEqual(plain.logs.filter((l) => /"level":"error"/.test(l)), []);
  } finally {
    await plain.stop();
  }
});
