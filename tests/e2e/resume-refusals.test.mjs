// A resume value works once, only on its own stream, for its own member and mode, within the
// grace period. Every other value is refused with its own code and close code (resume-invalid
// 4030, resume-expired 4031), and a refusal changes nothing: the member it names keeps its
// connection or its wait, and nobody hears of the attempt.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { startProxy } from '../support/tcp-proxy.mjs';
import { Client } from '../support/client.mjs';
import { join, joinThrough, resume, resumePath, refused, assertSilent } from '../support/resume.mjs';

const INVALID = { code: 'resume-invalid', close: 4030 };
const EXPIRED = { code: 'resume-expired', close: 4031 };

let server;
let brief;
let proxy;
before(async () => {
  [server, brief] = await Promise.all([
    startServer({ bindings: { RESUME_GRACE_SECONDS: '10' } }),
    // A short grace, so values expire within the test.
    startServer({ bindings: { RESUME_GRACE_SECONDS: '1' } }),
  ]);
  proxy = await startProxy(Number(server.url.port));
});
after(async () => {
  await proxy?.close();
  await Promise.all([server?.stop(), brief?.stop()]);
});

/** A value with one character of its part `index` (0 id, 1 role, 2 nonce, 3 tag) changed. */
function tamper(value, index) {
  const parts = value.split('.');
  const part = parts[index];
  const last = part.at(-1);
  parts[index] = part.slice(0, -1) + (last === 'A' ? 'B' : 'A');
  return parts.join('.');
}

test('forged values are refused and change nothing, for a live member or an away one', async () => {
  const p = '/refusals/forged';
  const pub = await join(server.wsBase, p, 'publish');
  const { client: sub, link } = await joinThrough(proxy, p, 'subscribe');
  const other = await join(server.wsBase, p, 'subscribe');
  for (const s of [sub, other]) {
    await pub.event('subscribed', s.id);
    await s.event('published', pub.id);
  }
  const [id, role, nonce, tag] = sub.resume.split('.');
  assert.equal(id, sub.id);
  assert.equal(role, 's');

  const forged = [
    tamper(sub.resume, 3),
    tamper(sub.resume, 2),
    // Another member's id under this member's signature.
    [other.id, role, nonce, tag].join('.'),
    [id, 'p', nonce, tag].join('.'),
    `${sub.resume}.extra`,
    sub.resume.slice(0, -1),
    'x'.repeat(200),
    'not a value',
    '',
  ];
  const tryAll = async () => {
    for (const value of forged) {
      assert.deepEqual(await refused(server.wsBase, resumePath(p, value), 'subscribe'), INVALID, `value ${value}`);
    }
  };

  // While the member is connected: it is not replaced.
  await tryAll();
  pub.send({ method: 'NOTIFY', to: sub.id, data: 'still yours' });
  assert.deepEqual(await sub.next(), { method: 'NOTIFY', from: pub.id, data: 'still yours' });

  // While it is away: its wait goes on, and its own value still works.
  link.sever();
  await sub.closed;
  await tryAll();
  const back = await resume(server.wsBase, p, 'subscribe', sub.resume, sub.id);
  await assertSilent([pub, other, back], 300, 'nobody heard of the attempts');
  await Promise.all([pub, other, back].map((c) => c.close()));
});

test('a value used once is refused when replayed, and the replay changes nothing', async () => {
  const p = '/refusals/replayed';
  const pub = await join(server.wsBase, p, 'publish');
  const { client: sub, link } = await joinThrough(proxy, p, 'subscribe');
  await pub.event('subscribed', sub.id);
  link.sever();
  await sub.closed;
  const back = await resume(server.wsBase, p, 'subscribe', sub.resume, sub.id);

  assert.deepEqual(await refused(server.wsBase, resumePath(p, sub.resume), 'subscribe'), INVALID);
  // The replay did not take the member's place: the resumed connection is still it.
  pub.send({ method: 'NOTIFY', to: sub.id, data: 'after the replay' });
  assert.deepEqual(await back.next(), { method: 'NOTIFY', from: pub.id, data: 'after the replay' });

  // The value the resume issued is the good one now; the first stays refused after it too.
  const again = await resume(server.wsBase, p, 'subscribe', back.resume, sub.id);
  assert.match((await back.next()).reason, /^replaced: /);
  assert.deepEqual(await refused(server.wsBase, resumePath(p, sub.resume), 'subscribe'), INVALID);
  assert.deepEqual(await refused(server.wsBase, resumePath(p, back.resume), 'subscribe'), INVALID);
  await assertSilent([pub, again], 300, 'nobody heard of the replays');
  await Promise.all([pub, again].map((c) => c.close()));
});

test('two connections racing with one value: exactly one resumes, the other is refused', async () => {
  const p = '/refusals/race';
  const pub = await join(server.wsBase, p, 'publish');
  const { client: sub, link } = await joinThrough(proxy, p, 'subscribe');
  await pub.event('subscribed', sub.id);
  link.sever();
  await sub.closed;
  const racers = await Promise.all([0, 1].map(() => Client.open(server.wsBase, resumePath(p, sub.resume), 'subscribe')));
  const firsts = await Promise.all(racers.map((r) => r.next()));
  const winners = firsts.filter((f) => f.data?.type === 'created');
  const losers = firsts.filter((f) => f.reason?.startsWith('resume-invalid: '));
  assert.equal(winners.length, 1, JSON.stringify(firsts));
  assert.equal(losers.length, 1, JSON.stringify(firsts));
  assert.deepEqual([winners[0].data.id, winners[0].data.resumed], [sub.id, true]);
  const loser = racers[firsts.indexOf(losers[0])];
  assert.equal((await loser.closed).code, 4030);
  const winner = racers[firsts.indexOf(winners[0])];
  pub.send({ method: 'NOTIFY', to: sub.id, data: 'to the winner' });
  assert.deepEqual(await winner.next(), { method: 'NOTIFY', from: pub.id, data: 'to the winner' });
  await assertSilent([pub, winner], 300, 'nobody heard of the race');
  await Promise.all([pub, winner].map((c) => c.close()));
});

test('a value is refused on another stream path and for the other mode, and changes nothing', async () => {
  const here = '/refusals/here';
  const there = '/refusals/there';
  const pub = await join(server.wsBase, here, 'publish');
  const sub = await join(server.wsBase, here, 'subscribe');
  await pub.event('subscribed', sub.id);
  await sub.event('published', pub.id);
  const elsewhere = await join(server.wsBase, there, 'subscribe');

  // Another stream's key did not sign it, whatever the id.
  assert.deepEqual(await refused(server.wsBase, resumePath(there, sub.resume), 'subscribe'), INVALID);
  assert.deepEqual(await refused(server.wsBase, resumePath(there, pub.resume), 'publish'), INVALID);
  // On the empty stream `there`, a publisher's value did not make anyone its publisher.
  await assertSilent([elsewhere], 300, 'the stream elsewhere is unchanged');

  // The other mode, on its own stream.
  assert.deepEqual(await refused(server.wsBase, resumePath(here, sub.resume), 'publish'), INVALID);
  assert.deepEqual(await refused(server.wsBase, resumePath(here, pub.resume), 'subscribe'), INVALID);
  await assertSilent([pub, sub], 300, 'nobody heard of the attempts');

  // Both values are still good where they belong.
  const pubBack = await resume(server.wsBase, here, 'publish', pub.resume, pub.id);
  const subBack = await resume(server.wsBase, here, 'subscribe', sub.resume, sub.id);
  pubBack.send({ method: 'NOTIFY', to: sub.id, data: 'same stream' });
  assert.deepEqual(await subBack.next(), { method: 'NOTIFY', from: pub.id, data: 'same stream' });
  await Promise.all([pubBack, subBack, elsewhere].map((c) => c.close()));
});

test('a value whose member departed is refused as expired: after the grace period, or a goodbye', async () => {
  const p = '/refusals/expired';
  const briefProxy = await startProxy(Number(brief.url.port));
  try {
    const pub = await join(brief.wsBase, p, 'publish');
    const { client: dropped, link } = await joinThrough(briefProxy, p, 'subscribe');
    const leaver = await join(brief.wsBase, p, 'subscribe');
    for (const s of [dropped, leaver]) await pub.event('subscribed', s.id);

    // A goodbye departs at once: its value expires with it.
    await leaver.close();
    await pub.event('unsubscribed', leaver.id);
    assert.deepEqual(await refused(brief.wsBase, resumePath(p, leaver.resume), 'subscribe'), EXPIRED);

    link.sever();
    await pub.event('unsubscribed', dropped.id, 10_000);
    assert.deepEqual(await refused(brief.wsBase, resumePath(p, dropped.resume), 'subscribe'), EXPIRED);
    await assertSilent([pub], 300, 'the refusals announced nothing');
    await pub.close();
  } finally {
    await briefProxy.close();
  }
});
