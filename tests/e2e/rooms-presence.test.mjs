// Watching a room (docs/PROTOCOL.md, "Rooms"): the list first, then live/ended as publishers
// arrive and leave; watchers before and after; a drop within the resume grace period is no
// departure, and its end is; rtclite streams are unchanged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { startProxy } from '../support/tcp-proxy.mjs';
import { Client } from '../support/client.mjs';
import { watch, change, assertNothingMore } from '../support/rooms.mjs';
import { joinThrough, resume } from '../support/resume.mjs';

let server;
let proxy;
before(async () => {
  server = await startServer({ bindings: { RESUME_GRACE_SECONDS: '3' } });
  proxy = await startProxy(Number(server.url.port));
});
after(async () => {
  await proxy?.close();
  await server?.stop();
});

test('a watcher from before: an empty list, then live and ended in order, with the publisher ids', async () => {
  const room = '/rooms/presence-1';
  const w = await watch(server.wsBase, room);
  assert.deepEqual(w.list, { type: 'streams', room, streams: [] });

  const alice = await Client.join(server.wsBase, `${room}/alice`, 'publish');
  assert.deepEqual(await change(w), { type: 'live', path: `${room}/alice`, id: alice.id });
  const bob = await Client.join(server.wsBase, `${room}/bob`, 'publish');
  assert.deepEqual(await change(w), { type: 'live', path: `${room}/bob`, id: bob.id });

  // Subscribers come and go without a word to watchers.
  const sub = await Client.join(server.wsBase, `${room}/alice`, 'subscribe');
  await sub.event('published', alice.id);
  await sub.close();

  await alice.close();
  assert.deepEqual(await change(w), { type: 'ended', path: `${room}/alice`, id: alice.id });
  // A new publisher on the same path: a new id.
  const alice2 = await Client.join(server.wsBase, `${room}/alice`, 'publish');
  assert.deepEqual(await change(w), { type: 'live', path: `${room}/alice`, id: alice2.id });
  await bob.close();
  assert.deepEqual(await change(w), { type: 'ended', path: `${room}/bob`, id: bob.id });
  await assertNothingMore(w);
  await alice2.close();
  await w.close();
});

test('a watcher from after: the list names what is live now, by path; then changes', async () => {
  const room = '/rooms/presence-2';
  const carol = await Client.join(server.wsBase, `${room}/carol`, 'publish');
  const ann = await Client.join(server.wsBase, `${room}/ann`, 'publish');
  const gone = await Client.join(server.wsBase, `${room}/gone`, 'publish');
  // Streams elsewhere are not in the room: deeper, beside it, or the room path itself.
  const deeper = await Client.join(server.wsBase, `${room}/x/deeper`, 'publish');
  const beside = await Client.join(server.wsBase, `/rooms/presence-2b/other`, 'publish');
  const itself = await Client.join(server.wsBase, room, 'publish');
  await gone.close();
  // Reports reach the room just after `created`: a first watcher waits until they are all in,
  // so the list the second one gets is settled.
  const first = await watch(server.wsBase, room);
  const known = new Map(first.list.streams.map((s) => [s.path, s.id]));
  while (!known.has(`${room}/ann`) || !known.has(`${room}/carol`) || known.has(`${room}/gone`)) {
    const c = await change(first);
    if (c.type === 'live') known.set(c.path, c.id);
    else known.delete(c.path);
  }
  const w = await watch(server.wsBase, `${room}/`);
  assert.deepEqual(w.list, {
    type: 'streams',
    room,
    streams: [
      { path: `${room}/ann`, id: ann.id },
      { path: `${room}/carol`, id: carol.id },
    ],
  });
  await carol.close();
  assert.deepEqual(await change(w), { type: 'ended', path: `${room}/carol`, id: carol.id });
  await assertNothingMore(w);
  await Promise.all([ann, deeper, beside, itself, w, first].map((c) => c.close()));
});

test('a drop within the grace period is no departure; a resume changes nothing; the end of the grace period is', async () => {
  const room = '/rooms/presence-3';
  const w = await watch(server.wsBase, room);
  const { client: pub, link } = await joinThrough(proxy, `${room}/dana`, 'publish');
  assert.deepEqual(await change(w), { type: 'live', path: `${room}/dana`, id: pub.id });

  link.sever();
  assert.equal((await pub.closed).code, 1006);
  const back = await resume(server.wsBase, `${room}/dana`, 'publish', pub.resume, pub.id);
  await assertNothingMore(w, 500, 'a drop and resume within the grace period');

  // Dropped again, and this time it stays away: ended once the 3 s grace period is over.
  const { client: again, link: link2 } = await joinThrough(proxy, `${room}/erin`, 'publish');
  assert.deepEqual(await change(w), { type: 'live', path: `${room}/erin`, id: again.id });
  const droppedAt = Date.now();
  link2.sever();
  await again.closed;
  assert.deepEqual(await change(w, 10_000), { type: 'ended', path: `${room}/erin`, id: again.id });
  assert.ok(Date.now() - droppedAt >= 2_500, 'ended only after the grace period');
  await assertNothingMore(w);
  await Promise.all([back, w].map((c) => c.close()));
});

test('stream clients see exactly what they saw before: no room frames reach publishers or subscribers', async () => {
  const room = '/rooms/presence-4';
  const w = await watch(server.wsBase, room);
  const sub = await Client.join(server.wsBase, `${room}/s`, 'subscribe');
  const pub = await Client.join(server.wsBase, `${room}/s`, 'publish');
  await pub.event('subscribed', sub.id);
  await sub.event('published', pub.id);
  await change(w);
  await pub.close();
  await sub.event('unpublished', pub.id);
  await change(w);
  assert.ok(await sub.quiet(300), `the subscriber got more: ${JSON.stringify(sub.frames)}`);
  await Promise.all([sub, w].map((c) => c.close()));
});
