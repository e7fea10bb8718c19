// Resume against the real runtime: a member whose socket drops keeps its id, gets what was sent
// to it meanwhile, and its peers notice nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { Client } from '../support/client.mjs';
import { rawUpgrade, frameReader } from '../support/raw.mjs';

let server;
before(async () => {
  server = await startServer({ bindings: { RESUME_GRACE_SECONDS: '5' } });
});
after(() => server.stop());

/** Joins and keeps the `created` frame's resume value. */
async function join(path, mode) {
  const client = await Client.open(server.wsBase, path, mode);
  const created = await client.event('created');
  client.id = created.data.id;
  client.resume = created.data.resume;
  return client;
}

/** Joins over a raw TCP connection, so the test can cut it without a close frame. */
async function joinRaw(path, mode) {
  const { status, socket, rest } = await rawUpgrade(server.url, `${path}?mode=${mode}`);
  assert.equal(status, 101);
  const created = await frameReader(socket, rest).next();
  return { id: created.data.id, resume: created.data.resume, drop: () => socket.resetAndDestroy() };
}

test('a dropped subscriber resumes with its id and gets the queued relay, once, in order', async () => {
  const p = '/resume/basic';
  const pub = await join(p, 'publish');
  const sub = await joinRaw(p, 'subscribe');
  assert.equal(typeof sub.resume, 'string');
  await pub.event('subscribed', sub.id);

  sub.drop();
  pub.send({ method: 'NOTIFY', to: sub.id, data: { n: 1 } });
  pub.send({ method: 'NOTIFY', to: sub.id, data: { n: 2 } });

  const back = await Client.open(server.wsBase, `${p}?resume=${encodeURIComponent(sub.resume)}`, 'subscribe');
  const created = await back.event('created');
  assert.equal(created.data.id, sub.id);
  assert.equal(created.data.resumed, true);
  assert.notEqual(created.data.resume, sub.resume);
  const first = await back.next((f) => f?.method === 'NOTIFY');
  const second = await back.next((f) => f?.method === 'NOTIFY');
  assert.deepEqual([first.data, second.data], [{ n: 1 }, { n: 2 }]);
  assert.equal(first.from, pub.id);
  assert.ok(await pub.quiet(300), 'the publisher saw nothing of the absence');

  // The old value was single-use.
  const replay = await Client.open(server.wsBase, `${p}?resume=${encodeURIComponent(sub.resume)}`, 'subscribe');
  const refused = await replay.next();
  assert.match(refused.reason, /^resume-invalid: /);
  assert.equal((await replay.closed).code, 4030);
  pub.close();
  back.close();
});

test('a member that does not come back departs once, after the grace period', async () => {
  const p = '/resume/expiry';
  const pub = await join(p, 'publish');
  const sub = await joinRaw(p, 'subscribe');
  await pub.event('subscribed', sub.id);
  sub.drop();
  const gone = await pub.event('unsubscribed', sub.id, 15_000);
  assert.equal(gone.data.id, sub.id);
  const late = await Client.open(server.wsBase, `${p}?resume=${encodeURIComponent(sub.resume)}`, 'subscribe');
  assert.match((await late.next()).reason, /^resume-expired: /);
  assert.equal((await late.closed).code, 4031);
  pub.close();
});
