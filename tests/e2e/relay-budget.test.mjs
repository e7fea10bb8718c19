// The relay byte budget against the real runtime: a member that relays more bytes to its peer
// than RELAY_BYTES_PER_SECOND allows gets `relay-budget` errors for what is dropped and, if it
// keeps at it, is closed with 4023; the budget is per subscriber-publisher pair, so a member
// relaying at a normal rate on the same stream notices nothing. The stream as a whole has a
// budget too (RELAY_STREAM_BYTES_PER_SECOND), so a publisher spreading its relays over many
// subscribers gets no more through than the stream's budget.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { closed, errorCode, join } from '../support/access.mjs';

// A budget of 1 KiB/s (bursts of 8 KiB) per pair, 2 KiB/s (bursts of 16 KiB) per stream, and a
// close after 5 dropped frames keep this fast. Each test has a stream (and stream budget) of its
// own; the first two stay within the stream's.
const BUDGET = 1024;
const BURST = BUDGET * 8;
const STREAM_BUDGET = 2048;
const STREAM_BURST = STREAM_BUDGET * 8;
const CLOSE_AFTER = 5;

let server;
before(async () => {
  server = await startServer({
    bindings: {
      RELAY_BYTES_PER_SECOND: String(BUDGET),
      RELAY_STREAM_BYTES_PER_SECOND: String(STREAM_BUDGET),
      FLOOD_CLOSE_AFTER: String(CLOSE_AFTER),
    },
  });
});
after(() => server?.stop());

/** A NOTIFY frame of exactly `bytes` bytes; `n` numbers it. */
function notifyOfSize(to, n, bytes) {
  const head = `{"method":"NOTIFY","to":"${to}","data":{"n":${n},"pad":"`;
  return `${head}${'x'.repeat(bytes - head.length - 3)}"}}`;
}

/** A publisher and `count` subscribers on a fresh stream, all introduced. */
async function stream(path, count = 2) {
  const publisher = await join(server.wsBase, path, { mode: 'publish' });
  const subs = [];
  for (let i = 0; i < count; i++) {
    const sub = await join(server.wsBase, path, { mode: 'subscribe' });
    await publisher.event('subscribed', sub.id);
    await sub.event('published', publisher.id);
    subs.push(sub);
  }
  return { publisher, subs };
}

/** Every frame `client` has received so far that is a NOTIFY from `from`, as their numbers. */
const relayedFrom = (client, from) => client.frames.filter((f) => f?.method === 'NOTIFY' && f.from === from).map((f) => f.data.n);

test('a subscriber over its relay budget gets relay-budget errors, then close 4023; another subscriber is unaffected', async () => {
  const { publisher, subs: [flooder, normal] } = await stream('/relay-budget/subscriber');
  const frameBytes = 1000;
  // Twice the burst, at once: the first ones fit the budget, the rest are dropped.
  const sent = (2 * BURST) / frameBytes;
  for (let n = 1; n <= sent; n++) flooder.send(notifyOfSize(publisher.id, n, frameBytes));
  // The normal subscriber relays small frames meanwhile, well inside its own budget.
  for (let n = 1; n <= 10; n++) normal.send({ method: 'NOTIFY', to: publisher.id, data: { n } });

  const end = await closed(flooder);
  assert.equal(end.code, 4023);
  assert.equal(end.reason, 'relay-budget');
  const errors = flooder.frames.filter((f) => f?.code === 'failed');
  assert.equal(errors.length, CLOSE_AFTER, 'one error per dropped frame, the last one with the close');
  assert.deepEqual(new Set(errors.map(errorCode)), new Set(['relay-budget']));

  // The publisher is told the flooder left, and got what fit the budget, in order, and no more.
  await publisher.event('unsubscribed', flooder.id);
  const got = relayedFrom(publisher, flooder.id);
  assert.ok(got.length >= Math.floor(BURST / frameBytes), `the burst went through (${got.length})`);
  assert.ok(got.length <= sent - CLOSE_AFTER, `the dropped frames did not (${got.length} of ${sent})`);
  assert.deepEqual(got, [...got].sort((a, b) => a - b));

  // Every frame of the normal subscriber arrived; it got no error and still relays both ways.
  const last = await publisher.next((f) => f?.from === normal.id && f.data?.n === 10);
  assert.deepEqual([...relayedFrom(publisher, normal.id), last.data.n], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  normal.send({ method: 'NOTIFY', to: publisher.id, data: { n: 11 } });
  assert.equal((await publisher.next((f) => f?.data?.n === 11)).from, normal.id);
  publisher.send({ method: 'NOTIFY', to: normal.id, data: { n: 12 } });
  assert.equal((await normal.next((f) => f?.method === 'NOTIFY')).data.n, 12);
  assert.equal(normal.frames.filter((f) => f?.code === 'failed').length, 0, 'the normal subscriber got no error');
  publisher.close();
  normal.close();
});

test('a publisher over the budget toward one subscriber is refused there only, then closed with 4023', async () => {
  const { publisher, subs: [slow, normal] } = await stream('/relay-budget/publisher');
  const frameBytes = 2000;
  const sent = Math.ceil((2 * BURST) / frameBytes);
  for (let n = 1; n <= sent; n++) {
    publisher.send(notifyOfSize(slow.id, n, frameBytes));
    // Interleaved small relays to the other subscriber: its pair has a budget of its own.
    publisher.send({ method: 'NOTIFY', to: normal.id, data: { n } });
  }
  const end = await closed(publisher);
  assert.equal(end.code, 4023);
  assert.equal(end.reason, 'relay-budget');
  const errors = publisher.frames.filter((f) => f?.code === 'failed');
  assert.equal(errors.length, CLOSE_AFTER);
  assert.deepEqual(new Set(errors.map(errorCode)), new Set(['relay-budget']));

  // The other subscriber got every small relay sent before the close, and was then told the
  // publisher left; nothing of the budget reached it as an error.
  await normal.event('unpublished', publisher.id);
  const got = relayedFrom(normal, publisher.id);
  assert.ok(got.length >= Math.floor(BURST / frameBytes), `relays before the close arrived (${got.length})`);
  assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i + 1), 'in order, none missing');
  assert.equal(normal.frames.filter((f) => f?.code === 'failed').length, 0);
  await slow.event('unpublished', publisher.id);
  slow.close();
  normal.close();
});

test("a publisher spreading its relays over many subscribers gets no more through than the stream's budget", async () => {
  const { publisher, subs } = await stream('/relay-budget/fan-out', 4);
  const frameBytes = 4000;
  // Round-robin, two bursts' worth for every pair: the pairs would let 2 frames each (8 in
  // all) through, the stream only 4.
  const perPair = Math.floor(BURST / frameBytes);
  const streamFits = Math.floor(STREAM_BURST / frameBytes);
  let n = 0;
  for (let round = 0; round < 4; round++) {
    for (const sub of subs) publisher.send(notifyOfSize(sub.id, ++n, frameBytes));
  }
  const end = await closed(publisher);
  assert.equal(end.code, 4023);
  assert.equal(end.reason, 'relay-budget');
  const errors = publisher.frames.filter((f) => f?.code === 'failed');
  assert.equal(errors.length, CLOSE_AFTER);
  assert.deepEqual(new Set(errors.map(errorCode)), new Set(['relay-budget']));

  let total = 0;
  for (const sub of subs) {
    await sub.event('unpublished', publisher.id);
    const got = relayedFrom(sub, publisher.id);
    assert.ok(got.length <= perPair, `a pair within its own budget (${got.length})`);
    total += got.length;
  }
  // The stream's burst, and at most one more frame's worth refilled while this ran.
  assert.ok(total >= streamFits, `the stream's burst went through (${total})`);
  assert.ok(total <= streamFits + 1, `no more than the stream's budget (${total} frames, the pairs alone would allow ${perPair * subs.length})`);
  for (const sub of subs) sub.close();
});
