// Hostile input against the real runtime with the default settings, one test each. Whatever a
// client sends, it gets a clear error (or the refusal of its own connection) and nobody else on
// the stream notices.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { closed, errorCode, join, open, rawUpgrade, refusal } from '../support/access.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

/** A publisher with two subscribers, all introduced; `bystander` is there to notice nothing. */
async function stream(path) {
  const publisher = await join(server.wsBase, path, { mode: 'publish' });
  const [attacker, bystander] = [await join(server.wsBase, path, { mode: 'subscribe' }), await join(server.wsBase, path, { mode: 'subscribe' })];
  for (const sub of [attacker, bystander]) {
    await publisher.event('subscribed', sub.id);
    await sub.event('published', publisher.id);
  }
  return { publisher, attacker, bystander, close: () => [publisher, attacker, bystander].forEach((c) => c.close()) };
}

/** The stream still relays both ways, and the bystander heard nothing unexpected. */
async function stillWorks({ publisher, attacker, bystander }) {
  assert.ok(await bystander.quiet(200), `bystander got ${JSON.stringify(bystander.frames)}`);
  bystander.send({ method: 'NOTIFY', to: publisher.id, data: 'fine' });
  assert.equal((await publisher.next((f) => f.data === 'fine')).from, bystander.id);
  publisher.send({ method: 'NOTIFY', to: attacker.id, data: 'still connected' });
  assert.equal((await attacker.next((f) => f.from)).data, 'still connected');
}

test('oversize frame', async () => {
  const s = await stream('/adv/oversize');
  s.attacker.send(JSON.stringify({ method: 'NOTIFY', to: s.publisher.id, data: 'x'.repeat(70 * 1024) }));
  assert.equal(errorCode(await s.attacker.next()), 'frame-too-large');
  assert.ok(await s.publisher.quiet(200));
  await stillWorks(s);
  s.close();
});

test('binary frame', async () => {
  const s = await stream('/adv/binary');
  s.attacker.ws.send(new Uint8Array([0x7b, 0x7d, 0xff, 0x00]));
  assert.equal(errorCode(await s.attacker.next()), 'binary-frame');
  assert.ok(await s.publisher.quiet(200));
  await stillWorks(s);
  s.close();
});

test('invalid UTF-8 in the path', async () => {
  // Percent-encoded bytes that are not UTF-8: refused on the socket.
  for (const path of ['/%ff%fe', '/a%c3', '/%ed%a0%80']) {
    const got = await refusal(server.wsBase, path, { mode: 'publish' });
    assert.equal(got.code, 'invalid-path', path);
    assert.equal(got.close, 4003);
  }
  // Raw non-ASCII bytes on the request line: the runtime's URL parser percent-encodes them into
  // a valid name before the Worker sees it (or refuses them). Either way nothing breaks.
  const raw = await rawUpgrade(server.url, Buffer.from([0x2f, 0xff, 0xfe, 0x80, 0x3f, ...Buffer.from('mode=publish')]));
  assert.ok(raw.status === 101 || raw.status === 400, `status ${raw.status}`);
  if (raw.status === 101) {
    const first = raw.frames[0];
    assert.ok(first?.data?.type === 'created' || errorCode(first) === 'invalid-path', JSON.stringify(first));
  }
  const after = await join(server.wsBase, '/adv/after-utf8', { mode: 'publish' });
  after.close();
});

test('path traversal-looking paths name nothing outside the stream namespace', async () => {
  // The runtime resolves dot segments before the Worker sees the path (as every URL parser
  // does): /../x is the stream /x, and /%2e%2e/ is / (the page, not a stream).
  const subscriber = await join(server.wsBase, '/x', { mode: 'subscribe' });
  const traversal = await rawUpgrade(server.url, '/../x?mode=publish', { ms: 500 });
  assert.equal(traversal.frames[0]?.data?.type, 'created');
  const publisherId = traversal.frames[0].data.id;
  assert.equal((await subscriber.event('published', publisherId)).data.id, publisherId);
  const encoded = await rawUpgrade(server.url, '/%2e%2e/?mode=publish', { ms: 500 });
  assert.notEqual(encoded.status, 101, 'no stream at /');
  assert.match(encoded.body, /Named Streams/, 'the static page is served instead');
  subscriber.close();
});

test('a 10 KB path', async () => {
  const got = await refusal(server.wsBase, `/${'a'.repeat(10 * 1024)}`, { mode: 'publish' });
  assert.equal(got.code, 'path-too-long');
  assert.equal(got.close, 4005);
});

test('`to` pointing at the sender itself', async () => {
  const s = await stream('/adv/self');
  s.attacker.send({ method: 'NOTIFY', to: s.attacker.id, data: 'me', msg_id: 7 });
  const error = await s.attacker.next();
  assert.equal(errorCode(error), 'notify-self');
  assert.equal(error.msg_id, 7);
  assert.ok(await s.publisher.quiet(200));
  await stillWorks(s);
  s.close();
});

test('a spoofed `from` is overwritten with the true sender', async () => {
  const s = await stream('/adv/spoof');
  s.attacker.send({ method: 'NOTIFY', to: s.publisher.id, from: s.bystander.id, data: 'forged' });
  const got = await s.publisher.next((f) => f.data === 'forged');
  assert.equal(got.from, s.attacker.id);
  // Nor can a subscriber reach another subscriber by naming it.
  s.attacker.send({ method: 'NOTIFY', to: s.bystander.id, from: s.publisher.id, data: 'sideways' });
  assert.equal((await s.attacker.next()).data.type, 'unpublished');
  await stillWorks(s);
  s.close();
});

test('NOTIFY flood', async () => {
  const s = await stream('/adv/flood');
  // Default limits: bursts of 400, 100/s, closed after 200 dropped frames.
  for (let i = 0; i < 1500; i++) s.attacker.send({ method: 'NOTIFY', to: s.publisher.id, data: i });
  assert.deepEqual(await closed(s.attacker), { code: 4022, reason: 'flooding' });
  assert.ok(s.attacker.frames.some((f) => errorCode(f) === 'rate-limited'));
  await s.publisher.event('unsubscribed', s.attacker.id);
  const relayed = s.publisher.frames.filter((f) => f.from === s.attacker.id).length;
  assert.ok(relayed >= 400 && relayed < 1500, `relayed ${relayed}`);
  assert.ok(await s.bystander.quiet(200));
  s.bystander.send({ method: 'NOTIFY', to: s.publisher.id, data: 'fine' });
  assert.equal((await s.publisher.next((f) => f.data === 'fine')).from, s.bystander.id);
  s.publisher.close();
  s.bystander.close();
});

test('many publishers racing for one stream: exactly one wins', async () => {
  const path = '/adv/race';
  const subscriber = await join(server.wsBase, path, { mode: 'subscribe' });
  const racers = await Promise.all(Array.from({ length: 20 }, () => open(server.wsBase, path, { mode: 'publish' })));
  const firsts = await Promise.all(racers.map((c) => c.next()));
  const winners = racers.filter((c, i) => firsts[i]?.data?.type === 'created');
  const losers = racers.filter((c, i) => errorCode(firsts[i]) === 'publisher-exists');
  assert.equal(winners.length, 1);
  assert.equal(losers.length, 19);
  for (const loser of losers) assert.equal((await closed(loser)).code, 4001);
  const winnerId = firsts.find((f) => f?.data?.type === 'created').data.id;
  await subscriber.event('published', winnerId);
  assert.ok(await subscriber.quiet(300), 'the subscriber heard of one publisher only');
  winners[0].close();
  subscriber.close();
});
