// watchRoom (public/js/room-client.js, re-exported by streams-client.js) against the real
// local runtime: the list, live and ended, the `live` Map, refusals, and a reconnect after a
// drop that re-sends the list with what changed meanwhile.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { startProxy } from '../support/tcp-proxy.mjs';
import { Client } from '../support/client.mjs';
import { watchRoom, connect } from '../../public/js/streams-client.js';

let server;
let proxy;
const watchers = [];
before(async () => {
  server = await startServer({ bindings: { RESUME_GRACE_SECONDS: '0' } });
  proxy = await startProxy(Number(server.url.port));
});
after(async () => {
  for (const w of watchers) w.close();
  await proxy?.close();
  await server?.stop();
});

function watchOn(serverUrl, room, options) {
  const w = watchRoom(room, { server: serverUrl, minBackoffMs: 50, maxBackoffMs: 200, ...options });
  watchers.push(w);
  return w;
}
/** Resolves with the detail of the next `type` event that `match` accepts. */
const once = (target, type, match = () => true) =>
  new Promise((resolve) => {
    const listener = (e) => {
      if (!match(e.detail)) return;
      target.removeEventListener(type, listener);
      resolve(e.detail);
    };
    target.addEventListener(type, listener);
  });

test('streams, live and ended events, and the live Map', async () => {
  const room = '/rooms/client-1';
  const early = await Client.join(server.wsBase, `${room}/early`, 'publish');
  // Wait until the room has it, through a raw watcher.
  const raw = await Client.open(server.wsBase, room, 'watch');
  await raw.next((f) => f?.data?.type === 'live' || f?.data?.streams?.length === 1);
  await raw.close();

  const w = watchOn(server.url, `${room}/`);
  assert.equal(w.room, room);
  const list = await once(w, 'streams');
  assert.deepEqual(list.streams, [{ path: `${room}/early`, id: early.id }]);
  assert.deepEqual(list.added, [{ path: `${room}/early`, id: early.id }]);
  assert.deepEqual(list.removed, []);
  assert.deepEqual([...w.live], [[`${room}/early`, early.id]]);

  const live = once(w, 'live');
  const late = connect(`${server.wsBase}${room}/late`, 'publish', { reconnect: false });
  const { id: lateId } = await once(late, 'created');
  assert.deepEqual(await live, { path: `${room}/late`, id: lateId });
  assert.equal(w.live.get(`${room}/late`), lateId);

  const ended = once(w, 'ended');
  await early.close();
  assert.deepEqual(await ended, { path: `${room}/early`, id: early.id });
  assert.deepEqual([...w.live], [[`${room}/late`, lateId]]);
  late.close();
  w.close();
});

test('a refusal that retrying cannot fix is an error event and a close without reconnecting', async () => {
  const w = watchOn(server.url, '/streams/not-a-room');
  const [error, closed] = await Promise.all([once(w, 'error'), once(w, 'close')]);
  assert.equal(error.code, 'not-a-room');
  assert.equal(closed.code, 4040);
  assert.equal(closed.willReconnect, false);
  assert.equal(w.closed, true);
  assert.throws(() => watchRoom('/rooms/a//b', { server: server.url }), /empty segment|\/\//);
});

test('after a drop it reconnects and the list says what changed meanwhile', async () => {
  const room = '/rooms/client-3';
  const a = await Client.join(server.wsBase, `${room}/a`, 'publish');
  const linked = proxy.nextLink();
  // A reconnect slow enough for the changes below to reach the room first.
  const w = watchOn(proxy.wsBase, room, { minBackoffMs: 3000, maxBackoffMs: 3000 });
  const link = await linked;
  await once(w, 'streams', (d) => d.streams.length === 1);
  assert.deepEqual([...w.live], [[`${room}/a`, a.id]]);

  // The watcher's connection is cut; meanwhile a leaves and b arrives.
  const dropped = once(w, 'close');
  link.sever();
  assert.equal((await dropped).willReconnect, true);
  const reconnected = once(w, 'streams');
  const raw = await Client.open(server.wsBase, room, 'watch');
  await raw.next((f) => f?.data?.type === 'streams');
  await a.close();
  await raw.next((f) => f?.data?.type === 'ended');
  const b = await Client.join(server.wsBase, `${room}/b`, 'publish');
  await raw.next((f) => f?.data?.type === 'live');
  await raw.close();
  const again = await reconnected;
  assert.deepEqual(again.removed, [{ path: `${room}/a`, id: a.id }]);
  assert.deepEqual(again.added, [{ path: `${room}/b`, id: b.id }]);
  assert.deepEqual([...w.live], [[`${room}/b`, b.id]]);
  await b.close();
  w.close();
});
