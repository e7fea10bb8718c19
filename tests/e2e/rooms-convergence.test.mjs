// A room converges to the truth (docs/PROTOCOL.md, "How the room learns, and why it
// converges"): after a lost report (made to fail by TEST_DROP_ROOM_REPORTS), after the room's
// object is evicted while its watcher hibernates, and after a runtime restart in which a stream
// object lost its state without reporting (resume off) while the room kept its stale list.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from '../support/server.mjs';
import { Client } from '../support/client.mjs';
import { watch, change, assertNothingMore } from '../support/rooms.mjs';

// Idleness is the point of the eviction test, so this wait is deliberate: past the runtime's
// ~10 s eviction of an idle object.
const IDLE_MS = 12_000;

const servers = [];
let dir;
after(async () => {
  for (const s of servers) await s.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});
async function start(options) {
  const server = await startServer(options);
  servers.push(server);
  return server;
}

test('a lost report: the stream object sends it again, and the watcher hears live', async () => {
  const server = await start({ bindings: { TEST_DROP_ROOM_REPORTS: '1' } });
  const room = '/rooms/conv-1';
  const w = await watch(server.wsBase, room);
  const pub = await Client.join(server.wsBase, `${room}/p`, 'publish');
  // The first report was lost...
  await server.waitForEvent('room-report-failed', (e) => e.stream === `${room}/p`);
  // ...and the retry (on the stream object's alarm) delivers it.
  assert.deepEqual(await change(w, 10_000), { type: 'live', path: `${room}/p`, id: pub.id });
  await pub.close();
  assert.deepEqual(await change(w), { type: 'ended', path: `${room}/p`, id: pub.id });
  await assertNothingMore(w);
  await w.close();
});

test('a stream that ends while the room is evicted and its watcher hibernates is reported after the wake-up', async () => {
  const server = await start();
  const room = '/rooms/conv-2';
  const w = await watch(server.wsBase, room);
  const stays = await Client.join(server.wsBase, `${room}/stays`, 'publish');
  const leaves = await Client.join(server.wsBase, `${room}/leaves`, 'publish');
  const seen = [await change(w), await change(w)].map((c) => c.path).sort();
  assert.deepEqual(seen, [`${room}/leaves`, `${room}/stays`]);

  const woke = server.logs.filter((l) => l.includes('"room-woke"')).length;
  await sleep(IDLE_MS);
  assert.equal(server.logs.filter((l) => l.includes('"room-woke"')).length, woke, 'the room woke while idle');
  const wake = server.waitForEvent('room-woke', (e) => e.room === room);
  await leaves.close();
  // The report woke the room, rebuilt from its watcher's socket and its stored list.
  const line = await wake;
  assert.equal(line.watchers, 1);
  assert.equal(line.stored, 2);
  assert.deepEqual(await change(w), { type: 'ended', path: `${room}/leaves`, id: leaves.id });
  await assertNothingMore(w);
  // A new watcher gets the same truth.
  const w2 = await watch(server.wsBase, room);
  assert.deepEqual(w2.list.streams, [{ path: `${room}/stays`, id: stays.id }]);
  await Promise.all([stays, w, w2].map((c) => c.close()));
});

test('after a restart the room lists a stream whose object lost its state; its verification ends it', async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'streams-rooms-'));
  // Resume off: a stream object keeps nothing in storage, so after the restart nobody reports
  // that its publisher is gone.
  const options = { persist: dir, bindings: { RESUME_GRACE_SECONDS: '0' } };
  let server = await start(options);
  const room = '/rooms/conv-3';
  const w = await watch(server.wsBase, room);
  const pub = await Client.join(server.wsBase, `${room}/p`, 'publish');
  assert.deepEqual(await change(w), { type: 'live', path: `${room}/p`, id: pub.id });
  await server.stop();
  servers.splice(servers.indexOf(server), 1);
  assert.equal((await pub.closed).code, 1006);

  server = await start(options);
  const back = await watch(server.wsBase, room);
  // The room's list survived the restart, stale: the stream has no publisher any more...
  assert.deepEqual(back.list.streams, [{ path: `${room}/p`, id: pub.id }]);
  // ...and the check made when a watcher connects corrects it.
  assert.deepEqual(await change(back), { type: 'ended', path: `${room}/p`, id: pub.id });
  const again = await watch(server.wsBase, room);
  assert.deepEqual(again.list.streams, []);
  await Promise.all([back, again].map((c) => c.close()));
});
