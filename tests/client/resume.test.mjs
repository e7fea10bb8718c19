// The client's side of resume (issue 10, item 6), against a fake server that speaks the resume
// wire format (tests/support/fake-streams.mjs): a lost connection comes back with the same id
// and no churn for the app, a silent one is found by the heartbeat, a refused resume becomes a
// fresh join, and `replaced` is final. Resume values and tokens stay out of events and output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import net from 'node:net';
import { WebSocket } from 'ws';
import { startFakeStreams } from '../support/fake-streams.mjs';
import { connect, CLOSE } from '../../public/js/streams-client.js';

const TOKEN = 'tok.en-value';
let fake;
let plain;
const clients = [];
before(async () => {
  fake = await startFakeStreams({ token: TOKEN });
  plain = await startFakeStreams({ resume: false });
});
after(async () => {
  for (const c of clients) c.close();
  await fake.stop();
  await plain.stop();
});

let n = 0;
/** A client on a fresh path that records every event it emits, in order. */
function open(server = fake, options = {}) {
  const path = `/resume/${++n}`;
  const client = connect(path, 'subscribe', {
    server: server.wsBase,
    token: TOKEN,
    minBackoffMs: 20,
    maxBackoffMs: 100,
    WebSocket,
    ...options,
  });
  clients.push(client);
  // `connect` has already started: the first state is there to read, not to hear.
  assert.equal(client.state, 'connecting');
  const log = [];
  for (const type of ['state', 'open', 'created', 'resumed', 'published', 'unpublished', 'notify', 'error', 'close']) {
    client.on(type, (detail) => log.push({ type, ...detail }));
  }
  return { client, log, path };
}

/** Resolves with the first event `type` (already logged or future) matching `match`. */
function event(client, log, type, match = () => true) {
  const seen = log.find((e) => e.type === type && match(e));
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => {
    const listener = (e) => {
      if (!match(e.detail)) return;
      client.removeEventListener(type, listener);
      resolve(e.detail);
    };
    client.addEventListener(type, listener);
  });
}

const states = (log) => log.filter((e) => e.type === 'state').map((e) => (e.state === 'connected' ? `connected${e.resumed ? '+resumed' : ''}` : e.state));
const count = (log, type) => log.filter((e) => e.type === type).length;

test('a dropped connection resumes with the same id; what was sent meanwhile arrives; the app sees no churn', async () => {
  const { client, log, path } = open();
  const { id } = await event(client, log, 'created');
  const first = await fake.attempt(fake.attempts.length);
  assert.equal(first.params.token, TOKEN);
  assert.equal(first.params.resume, undefined);
  const issued = fake.members.get(id).resume;

  fake.drop(id);
  await event(client, log, 'state', (e) => e.state === 'resuming');
  // Away: the server queues for it, and what the app sends waits for the resume.
  fake.send(id, { method: 'NOTIFY', from: 'p1', data: { n: 1 } });
  fake.send(id, { method: 'EVENT', data: { type: 'unpublished', id: 'p1' } });
  fake.send(id, { method: 'EVENT', data: { type: 'published', id: 'p2' } });
  assert.equal(client.notify('p2', { queued: true }), true);

  await event(client, log, 'resumed');
  await event(client, log, 'published', (e) => e.id === 'p2');
  assert.equal(client.id, id);
  assert.deepEqual(states(log), ['connected', 'resuming', 'connected+resumed']);
  assert.equal(count(log, 'created'), 1, 'a resume is no new join');
  assert.equal(count(log, 'error'), 0);
  // Queued frames in order, after the resume.
  const after = log.slice(log.findIndex((e) => e.type === 'resumed'));
  assert.deepEqual(
    after.filter((e) => ['notify', 'unpublished', 'published'].includes(e.type)).map((e) => `${e.type}:${e.from ?? e.id}`),
    ['notify:p1', 'unpublished:p1', 'published:p2'],
  );
  assert.deepEqual((await fake.received(id, (f) => f.to === 'p2')).data, { queued: true });

  // The resume presented the issued value (URL-encoded on the way), the same mode, no token.
  const resumed = fake.attempts.at(-1);
  assert.equal(resumed.path, path);
  assert.deepEqual(resumed.params, { mode: 'subscribe', resume: issued });
  assert.ok(!inspect(client).includes(issued) && !JSON.stringify(log).includes(issued));
  assert.ok(!inspect(client).includes(TOKEN));
});

test('every resume presents the newest single-use value', async () => {
  const { client, log } = open();
  const { id } = await event(client, log, 'created');
  const values = [fake.members.get(id).resume];
  for (let round = 1; round <= 3; round++) {
    fake.drop(id);
    await event(client, log, 'resumed', () => count(log, 'resumed') === round);
    assert.equal(fake.attempts.at(-1).params.resume, values.at(-1));
    values.push(fake.members.get(id).resume);
  }
  assert.equal(new Set(values).size, 4);
  assert.equal(client.id, id);
});

test('a silent connection is found by the heartbeat and resumed', async () => {
  const { client, log } = open(fake, { heartbeatMs: 40, heartbeatTimeoutMs: 80 });
  const { id } = await event(client, log, 'created');
  fake.silence(id);
  const closed = await event(client, log, 'close');
  assert.deepEqual([closed.code, closed.willReconnect, closed.resuming], [4900, true, true]);
  await event(client, log, 'resumed');
  assert.equal(client.id, id);
  assert.deepEqual(states(log), ['connected', 'resuming', 'connected+resumed']);
});

for (const [verdict, code] of [
  ['expired', CLOSE.RESUME_EXPIRED],
  ['invalid', CLOSE.RESUME_INVALID],
]) {
  test(`a resume refused as ${verdict} (${code}) becomes a fresh join with the token and a new id`, async () => {
    const { client, log } = open();
    const { id } = await event(client, log, 'created');
    fake.nextResume = verdict;
    fake.drop(id);
    await event(client, log, 'state', (e) => e.state === 'resuming');
    assert.equal(client.notify('p', { lost: true }), true);
    const fresh = await event(client, log, 'state', (e) => e.state === 'fresh-join');
    assert.equal(fresh.previousId, id);
    assert.match(fresh.reason, new RegExp(`^resume-${verdict}: `));
    const { id: newId } = await event(client, log, 'created', (e) => e.id !== id);
    assert.notEqual(newId, id);
    assert.equal(client.id, newId);
    assert.deepEqual(states(log), ['connected', 'resuming', 'fresh-join', 'connected']);
    assert.equal(count(log, 'error'), 0, 'the refused resume is not an app error');
    assert.deepEqual(
      log.filter((e) => e.type === 'close').map((e) => [e.code, e.willReconnect, e.resuming]),
      [
        [1006, true, true],
        [code, true, false],
      ],
    );
    const join = fake.attempts.at(-1);
    assert.deepEqual(join.params, { mode: 'subscribe', token: TOKEN });
    // What was queued for the old id is not sent from the new one.
    assert.deepEqual(fake.members.get(newId).received, []);
    assert.deepEqual(fake.members.get(id).received, []);
  });
}

test('a resume refused for want of a token falls back to a fresh join with it', async () => {
  const { client, log } = open();
  const { id } = await event(client, log, 'created');
  fake.nextResume = 'token-missing';
  fake.drop(id);
  const { id: newId } = await event(client, log, 'created', (e) => e.id !== id);
  assert.notEqual(newId, id);
  assert.equal(fake.attempts.at(-1).params.token, TOKEN);
  assert.deepEqual(states(log), ['connected', 'resuming', 'fresh-join', 'connected']);
});

test('replaced (4032): the connection was taken over, and the client does not come back', async () => {
  const { client, log } = open();
  const { id } = await event(client, log, 'created');
  const attempts = fake.attempts.length;
  fake.close(id, CLOSE.REPLACED, 'replaced');
  const closed = await event(client, log, 'close');
  assert.deepEqual([closed.code, closed.willReconnect], [4032, false]);
  assert.deepEqual(states(log), ['connected', 'closed']);
  assert.equal(client.state, 'closed');
  assert.equal(client.reconnectTimer, null);
  assert.equal(fake.attempts.length, attempts);
});

test('server-side closes heartbeat-timeout (4033) and relay-budget (4023) are resumed', async () => {
  for (const [code, reason] of [
    [CLOSE.HEARTBEAT_TIMEOUT, 'heartbeat-timeout'],
    [4023, 'relay-budget'],
  ]) {
    const { client, log } = open();
    const { id } = await event(client, log, 'created');
    fake.close(id, code, reason);
    await event(client, log, 'resumed');
    assert.equal(client.id, id);
    assert.deepEqual(states(log), ['connected', 'resuming', 'connected+resumed']);
  }
});

test('without resume on the server, a drop is a fresh join (as with rtclite)', async () => {
  const { client, log } = open(plain);
  const { id } = await event(client, log, 'created');
  plain.drop(id);
  const fresh = await event(client, log, 'state', (e) => e.state === 'fresh-join');
  assert.equal(fresh.previousId, id);
  const { id: newId } = await event(client, log, 'created', (e) => e.id !== id);
  assert.notEqual(newId, id);
  assert.equal(plain.attempts.at(-1).params.resume, undefined);
});

test('close() while resuming ends it: no more attempts', async () => {
  const { client, log } = open(fake, { minBackoffMs: 60_000, maxBackoffMs: 60_000 });
  const { id } = await event(client, log, 'created');
  fake.drop(id);
  await event(client, log, 'state', (e) => e.state === 'resuming');
  client.close();
  assert.equal(client.state, 'closed');
  assert.deepEqual(states(log), ['connected', 'resuming', 'closed']);
  assert.equal(client.notify('p', {}), false);
});

test('an attempt whose handshake hangs is given up and retried', async () => {
  // A server that accepts TCP connections and never answers.
  const accepted = [];
  const silent = net.createServer((socket) => accepted.push(socket));
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const client = connect('/hang', 'subscribe', {
      server: `http://127.0.0.1:${silent.address().port}`,
      connectTimeoutMs: 100,
      minBackoffMs: 10,
      maxBackoffMs: 20,
      WebSocket,
    });
    clients.push(client);
    const closes = [];
    await new Promise((resolve) =>
      client.on('close', (detail) => {
        closes.push(detail);
        if (closes.length === 2) resolve();
      }),
    );
    client.close();
    assert.deepEqual(closes[0], { code: 4900, reason: 'connect timeout', willReconnect: true, resuming: false });
    assert.ok(accepted.length >= 2, 'it tried again');
  } finally {
    for (const socket of accepted) socket.destroy();
    silent.close();
  }
});
