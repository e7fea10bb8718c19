// Who may watch a room, and the room's limits: a subscriber's token and allowlists, rooms only
// under ROOM_PREFIXES, hash streams never listed, watchers that send frames, MAX_ROOM_WATCHERS
// and MAX_ROOM_STREAMS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { Client } from '../support/client.mjs';
import { watch, change, refusedWatch, assertNothingMore } from '../support/rooms.mjs';
import { errorCode } from '../support/access.mjs';
import { mintToken } from '../../scripts/token.mjs';

const SECRET = 'rooms-access-test-secret-0123456789abcdef';
const now = () => Math.floor(Date.now() / 1000);
const mint = (path, mode) => mintToken({ secret: SECRET, path, mode, exp: now() + 300 });
const withToken = (room, token) => `${room}?token=${encodeURIComponent(token)}`;

let tokens;
let lists;
before(async () => {
  [tokens, lists] = await Promise.all([
    startServer({
      bindings: {
        TOKEN_SECRET: SECRET,
        PUBLISH_AUTH: 'open',
        SUBSCRIBE_AUTH: 'token',
        MAX_ROOM_WATCHERS: '2',
        MAX_ROOM_STREAMS: '2',
        ROOM_PREFIXES: '/rooms/ /calls/',
      },
    }),
    startServer({ bindings: { ALLOWED_PATHS: '/rooms/team-a/', ROOM_PREFIXES: '/rooms/' } }),
  ]);
});
after(async () => {
  await tokens?.stop();
  await lists?.stop();
});

test('a watch needs a subscriber token for the room path with its trailing slash', async () => {
  const room = '/rooms/acc-1';
  assert.deepEqual(await refusedWatch(tokens.wsBase, room), { code: 'token-missing', close: 4010 });
  for (const [token, code, close] of [
    [mint(room, 'subscribe'), 'token-wrong-path', 4014],
    [mint(`${room}/alice`, 'subscribe'), 'token-wrong-path', 4014],
    [mint('/rooms/', 'subscribe'), 'token-wrong-path', 4014],
    [mint(`${room}/`, 'publish'), 'token-wrong-mode', 4015],
  ]) {
    assert.deepEqual(await refusedWatch(tokens.wsBase, withToken(room, token)), { code, close }, token);
  }
  const w = await watch(tokens.wsBase, withToken(room, mint(`${room}/`, 'subscribe')));
  assert.equal(w.list.room, room);
  // The same token with the room written with its trailing slash.
  const w2 = await watch(tokens.wsBase, withToken(`${room}/`, mint(`${room}/`, 'subscribe')));
  // A resume value is no credential on a watch.
  assert.deepEqual(await refusedWatch(tokens.wsBase, `${room}?resume=anything`), { code: 'token-missing', close: 4010 });
  await Promise.all([w.close(), w2.close()]);
});

test('rooms exist only under ROOM_PREFIXES, never on hash paths; other paths are refused as for streams', async () => {
  const token = (room) => mint(`${room}/`, 'subscribe');
  assert.deepEqual(await refusedWatch(tokens.wsBase, withToken('/streams/x', token('/streams/x'))), { code: 'not-a-room', close: 4040 });
  assert.deepEqual(await refusedWatch(tokens.wsBase, withToken('/roomsx', token('/roomsx'))), { code: 'not-a-room', close: 4040 });
  const hex = 'a'.repeat(40);
  assert.deepEqual(await refusedWatch(tokens.wsBase, `/sha1/${hex}`), { code: 'invalid-path', close: 4003 });
  assert.deepEqual(await refusedWatch(tokens.wsBase, '/sha1/rooms'), { code: 'invalid-path', close: 4003 });
  assert.deepEqual(await refusedWatch(tokens.wsBase, '/rooms/a//b'), { code: 'invalid-path', close: 4003 });
  // The HTTP refusals are a stream's: a watch needs a WebSocket upgrade.
  const plain = await fetch(`${tokens.url.origin}/rooms/acc-2?mode=watch`);
  assert.equal(plain.status, 426);
});

test('ALLOWED_PATHS: a room is watchable only if every stream it could list is allowed', async () => {
  const w = await watch(lists.wsBase, '/rooms/team-a');
  assert.deepEqual(await refusedWatch(lists.wsBase, '/rooms/team-b'), { code: 'path-not-allowed', close: 4006 });
  assert.deepEqual(await refusedWatch(lists.wsBase, '/rooms'), { code: 'path-not-allowed', close: 4006 });
  await w.close();
});

test('hash streams are never listed: publishing on /sha1/<room>/<name> reaches no watcher', async () => {
  const room = '/rooms/acc-3';
  const w = await watch(tokens.wsBase, withToken(room, mint(`${room}/`, 'subscribe')));
  const hidden = await Client.join(tokens.wsBase, `/sha1${room}/hidden`, 'publish');
  const shown = await Client.join(tokens.wsBase, `${room}/shown`, 'publish');
  assert.deepEqual(await change(w), { type: 'live', path: `${room}/shown`, id: shown.id });
  await assertNothingMore(w, 300, 'the hash stream was announced');
  await Promise.all([hidden, shown, w].map((c) => c.close()));
});

test('a watcher sends nothing but ping: anything else gets watch-only, and the watch goes on', async () => {
  const room = '/rooms/acc-4';
  const w = await watch(tokens.wsBase, withToken(room, mint(`${room}/`, 'subscribe')));
  w.send({ method: 'NOTIFY', to: 'x', data: 1 });
  assert.equal(errorCode(await w.next()), 'watch-only');
  w.ws.send(new Uint8Array([1, 2, 3]));
  assert.equal(errorCode(await w.next()), 'watch-only');
  w.send('ping');
  assert.equal(await w.next(), 'pong');
  const pub = await Client.join(tokens.wsBase, `${room}/p`, 'publish');
  assert.deepEqual(await change(w), { type: 'live', path: `${room}/p`, id: pub.id });
  await Promise.all([pub, w].map((c) => c.close()));
});

test('MAX_ROOM_WATCHERS: one more watcher is refused with room-full (4041) until one leaves', async () => {
  const room = '/rooms/acc-5';
  const path = withToken(room, mint(`${room}/`, 'subscribe'));
  const w1 = await watch(tokens.wsBase, path);
  const w2 = await watch(tokens.wsBase, path);
  assert.deepEqual(await refusedWatch(tokens.wsBase, path), { code: 'room-full', close: 4041 });
  // Another room is not affected.
  const other = await watch(tokens.wsBase, withToken('/calls/acc-5', mint('/calls/acc-5/', 'subscribe')));
  await w1.close();
  const w3 = await watch(tokens.wsBase, path);
  await Promise.all([w2, w3, other].map((c) => c.close()));
});

test('MAX_ROOM_STREAMS: a stream beyond the limit is listed once another ends', async () => {
  const room = '/rooms/acc-6';
  const w = await watch(tokens.wsBase, withToken(room, mint(`${room}/`, 'subscribe')));
  const a = await Client.join(tokens.wsBase, `${room}/a`, 'publish');
  assert.deepEqual(await change(w), { type: 'live', path: `${room}/a`, id: a.id });
  const b = await Client.join(tokens.wsBase, `${room}/b`, 'publish');
  assert.deepEqual(await change(w), { type: 'live', path: `${room}/b`, id: b.id });
  const c = await Client.join(tokens.wsBase, `${room}/c`, 'publish');
  await tokens.waitForEvent('room-report-unlisted', (e) => e.stream === `${room}/c`);
  assert.ok(await w.quiet(0), `listed a third stream: ${JSON.stringify(w.frames)}`);
  await a.close();
  assert.deepEqual(await change(w), { type: 'ended', path: `${room}/a`, id: a.id });
  // The third stream's object reports again (its retry) and is listed now.
  assert.deepEqual(await change(w, 15_000), { type: 'live', path: `${room}/c`, id: c.id });
  await Promise.all([b, c, w].map((x) => x.close()));
});
