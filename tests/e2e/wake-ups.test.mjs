// What an idle stream costs: its object is rebuilt (and logs a "woke" event)
// on every wake-up after an eviction. Heartbeats are answered by the runtime without waking it,
// and the dead-peer rule sets no alarm, so members that ping while nobody is away cost nothing
// once the object sleeps; a member away costs one wake-up, at the end of its grace period.
// Each test has its own runtime, so every wake-up it counts is its own stream's.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from '../support/server.mjs';
import { startProxy } from '../support/tcp-proxy.mjs';
import { join, joinThrough } from '../support/resume.mjs';

const WOKE = /"event":"woke"/;
const HEARTBEAT = { HEARTBEAT_TIMEOUT_SECONDS: '2' };

/** Counts the wake-ups a runtime has logged. */
const wakes = (server) => server.logs.filter((l) => WOKE.test(l)).length;

/**
 * Sends `ping` on every client each second, checking each gets its `pong`, until stopped.
 * Idleness with heartbeats is the point here, so the pace is a deliberate wait.
 */
function heartbeats(clients) {
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const c of clients) c.send('ping');
      for (const c of clients) assert.equal(await c.next((f) => f === 'pong'), 'pong');
      await sleep(1000);
    }
  })();
  return {
    stop() {
      running = false;
      return loop;
    },
  };
}

/** Sends a real frame, which needs the object: resolves once it is relayed. */
async function relay(from, to) {
  from.send({ method: 'NOTIFY', to: to.id, data: 'wake up' });
  assert.deepEqual(await to.next(), { method: 'NOTIFY', from: from.id, data: 'wake up' });
}

/** Runs `poke`, which needs the object, and waits for the wake-up it causes. */
async function wakeBy(server, poke) {
  const woke = server.nextLog(WOKE, 10_000);
  await poke();
  await woke;
}

describe('wake-ups of an idle stream', { concurrency: true }, () => {
  test('members pinging every second with nobody away: no wake-up once the object sleeps', async () => {
    const server = await startServer({ bindings: { ...HEARTBEAT, RESUME_GRACE_SECONDS: '5' } });
    try {
      const p = '/wake-ups/pinging';
      const pub = await join(server.wsBase, p, 'publish');
      const sub = await join(server.wsBase, p, 'subscribe');
      await pub.event('subscribed', sub.id);
      await sub.event('published', pub.id);
      const before = wakes(server);

      // Past the eviction (~10 s), then many heartbeat timeouts more.
      const beat = heartbeats([pub, sub]);
      await sleep(24_000);
      await beat.stop();
      assert.equal(wakes(server), before, 'no wake-up while the members only pinged');

      // The object was asleep all along: the next frame rebuilds it, once. Nobody was timed
      // out, though the timeout passed many times over while it slept.
      await wakeBy(server, () => relay(sub, pub));
      await relay(pub, sub);
      assert.equal(wakes(server), before + 1);
      assert.deepEqual([pub.frames, sub.frames], [[], []]);
      await Promise.all([pub, sub].map((c) => c.close()));
    } finally {
      await server.stop();
    }
  });

  test('a member away: one wake-up, when its grace period ends, and none after', async () => {
    // A grace period longer than the runtime takes to evict the object.
    const server = await startServer({ bindings: { ...HEARTBEAT, RESUME_GRACE_SECONDS: '15' } });
    const proxy = await startProxy(Number(server.url.port));
    try {
      const p = '/wake-ups/away';
      const pub = await join(server.wsBase, p, 'publish');
      const sub = await join(server.wsBase, p, 'subscribe');
      const { client: dropped, link } = await joinThrough(proxy, p, 'subscribe');
      for (const s of [sub, dropped]) {
        await pub.event('subscribed', s.id);
        await s.event('published', pub.id);
      }
      const beat = heartbeats([pub, sub]);
      link.sever();
      const before = wakes(server);

      // The object sleeps, then the alarm for the grace end wakes it: the departure, once.
      const gone = await pub.next((f) => f?.method === 'EVENT', 25_000);
      assert.deepEqual(gone, { method: 'EVENT', data: { type: 'unsubscribed', id: dropped.id } });
      assert.equal(wakes(server), before + 1, 'the alarm woke the evicted object once');

      // Then nothing: no alarm is left, and the pings wake nobody.
      await sleep(12_000);
      await beat.stop();
      assert.equal(wakes(server), before + 1, 'no wake-up after the departure');
      await wakeBy(server, () => relay(sub, pub));
      assert.equal(wakes(server), before + 2);
      assert.deepEqual([pub.frames, sub.frames], [[], []]);
      await Promise.all([pub, sub].map((c) => c.close()));
    } finally {
      await proxy.close();
      await server.stop();
    }
  });
});
