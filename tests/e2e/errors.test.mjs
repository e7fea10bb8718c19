// Bad frames get an error to the sender only; the connection and the stream carry on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { Client } from '../support/client.mjs';

let server;
let pub;
let sub;
let bystander;
before(async () => {
  server = await startServer();
  const p = '/errors/1';
  pub = await Client.join(server.wsBase, p, 'publish');
  sub = await Client.join(server.wsBase, p, 'subscribe');
  bystander = await Client.join(server.wsBase, p, 'subscribe');
  await sub.event('published', pub.id);
  await bystander.event('published', pub.id);
  await pub.event('subscribed', sub.id);
  await pub.event('subscribed', bystander.id);
});
after(async () => {
  await Promise.all([pub, sub, bystander].map((c) => c.close()));
  await server.stop();
});

/** Sends a bad frame from `sub`, returns the error frame, and checks nothing else changed. */
async function reject(frame) {
  sub.send(frame);
  const error = await sub.next();
  assert.equal(error.code, 'failed', JSON.stringify(error));
  assert.ok(await bystander.quiet(50));
  assert.ok(await pub.quiet(0));
  assert.ok(await sub.quiet(0), `more than one answer: ${JSON.stringify(sub.frames)}`);
  // The stream still relays both ways.
  sub.send({ method: 'NOTIFY', to: pub.id, data: 'alive' });
  assert.deepEqual(await pub.next(), { method: 'NOTIFY', from: sub.id, data: 'alive' });
  return error;
}

const cases = [
  ['invalid JSON', '{nope', 'invalid-json'],
  ['not an object', '[1,2,3]', 'not-an-object'],
  ['unknown method', { method: 'PUBLISH' }, 'unknown-method'],
  ['no method', { to: 'x' }, 'unknown-method'],
  ['NOTIFY without to', { method: 'NOTIFY', data: 1 }, 'missing-field'],
  ['to of the wrong type', { method: 'NOTIFY', to: { id: 1 }, data: 1 }, 'invalid-field'],
  ['GET without resource', { method: 'GET', msg_id: 1 }, 'missing-field'],
  ['GET of an unknown resource', { method: 'GET', resource: '/nope', msg_id: 1 }, 'unknown-resource'],
  ['oversize frame', { method: 'NOTIFY', to: 'x', data: 'x'.repeat(70_000) }, 'frame-too-large'],
];

for (const [name, frame, code] of cases) {
  test(`${name} gets ${code}`, async () => {
    const error = await reject(frame);
    assert.match(error.reason, new RegExp(`^${code}: .+`));
    if (typeof frame === 'object' && 'msg_id' in frame) assert.equal(error.msg_id, frame.msg_id);
    else assert.equal(error.msg_id, undefined);
  });
}

test('a binary frame gets binary-frame', async () => {
  sub.ws.send(new Uint8Array([1, 2, 3]));
  const error = await sub.next();
  assert.match(error.reason, /^binary-frame: /);
  assert.ok(await bystander.quiet(50));
  assert.ok(await pub.quiet(0));
  assert.ok(await sub.quiet(0));
});
