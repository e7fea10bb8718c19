// Resume across hibernation: the local runtime evicts an idle stream's object after ~10 s and
// rebuilds it on the next event from its sockets' attachments and its storage. Members away when
// it slept, zombies it still held, and members that drop while it sleeps all resume as if it had
// never slept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from '../support/server.mjs';
import { startProxy } from '../support/tcp-proxy.mjs';
import { join, joinThrough, joinRawThrough, resume, assertSilent } from '../support/resume.mjs';

// Idleness is the point here, so this wait is deliberate: past the runtime's ~10 s eviction.
const IDLE_MS = 12_000;
const WOKE = /"event":"woke".*"connections":(\d+),"stored":(\d+)/;

let server;
let proxy;
before(async () => {
  // A grace period that outlasts the idle time, so nobody's ends while the stream sleeps.
  server = await startServer({ bindings: { RESUME_GRACE_SECONDS: '40' } });
  proxy = await startProxy(Number(server.url.port));
});
after(async () => {
  await proxy?.close();
  await server?.stop();
});

const wakes = () => server.logs.filter((l) => WOKE.test(l)).length;

/** Idles past an eviction, then runs `poke` and resolves with the wake-up line it caused. */
async function idleThenWake(poke) {
  const before = wakes();
  await sleep(IDLE_MS);
  assert.equal(wakes(), before, 'the stream woke while idle');
  const woke = server.nextLog(WOKE, 10_000);
  const result = await poke();
  return { line: await woke, result };
}

test('away members, zombies and members dropping in their sleep resume with their ids after an eviction', async () => {
  const p = '/hibernation/resume';
  const pub = await join(server.wsBase, p, 'publish');
  const { client: away, link: awayLink } = await joinThrough(proxy, p, 'subscribe');
  const zombie = await joinRawThrough(proxy, p, 'subscribe');
  const { client: sleeper, link: sleeperLink } = await joinThrough(proxy, p, 'subscribe');
  for (const s of [away, sleeper]) await s.event('published', pub.id);
  assert.deepEqual(await zombie.reader.next(), { method: 'EVENT', data: { type: 'published', id: pub.id } });
  for (const s of [away, zombie, sleeper]) await pub.event('subscribed', s.id);

  // Before the sleep: one member is away with a frame queued, one is a silent zombie.
  awayLink.sever();
  await away.closed;
  pub.send({ method: 'NOTIFY', to: away.id, data: 'queued before the sleep' });
  zombie.link.freeze();

  // The away member's resume wakes the rebuilt stream, which still knows it and its queue.
  const { line, result: awayBack } = await idleThenWake(() =>
    resume(server.wsBase, p, 'subscribe', away.resume, away.id),
  );
  // Held: the publisher, the zombie and the sleeper; stored: all four members.
  assert.deepEqual(WOKE.exec(line).slice(1), ['3', '4']);
  assert.deepEqual(await awayBack.next(), { method: 'NOTIFY', from: pub.id, data: 'queued before the sleep' });

  // The zombie's socket, held through the eviction, is replaced by its resume.
  const zombieBack = await resume(server.wsBase, p, 'subscribe', zombie.resume, zombie.id);
  zombie.link.thaw();
  assert.match((await zombie.reader.next()).reason, /^replaced: /);
  assert.deepEqual(await zombie.reader.nextClose(), { code: 4032, reason: 'replaced' });
  assert.deepEqual(zombie.reader.frames, []);
  zombie.socket.destroy();

  // A member whose connection is reset while the stream sleeps: the loss wakes it, and the
  // member is away, not gone.
  await idleThenWake(() => sleeperLink.sever());
  await sleeper.closed;
  pub.send({ method: 'NOTIFY', to: sleeper.id, data: 'queued after the wake-up' });
  const sleeperBack = await resume(server.wsBase, p, 'subscribe', sleeper.resume, sleeper.id);
  assert.deepEqual(await sleeperBack.next(), { method: 'NOTIFY', from: pub.id, data: 'queued after the wake-up' });

  const back = [awayBack, zombieBack, sleeperBack];
  await assertSilent([pub, ...back], 300, 'nobody heard of any absence');
  for (const s of back) {
    s.send({ method: 'NOTIFY', to: pub.id, data: s.id });
    assert.deepEqual(await pub.next(), { method: 'NOTIFY', from: s.id, data: s.id });
  }
  await Promise.all([pub, ...back].map((c) => c.close()));
});
