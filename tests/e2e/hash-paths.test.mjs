// Hash paths: publish on the name, subscribe on its hash; the hash cannot publish.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServer } from '../support/server.mjs';
import { Client } from '../support/client.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(() => server.stop());

const hex = (algo, text) => crypto.createHash(algo).update(text).digest('hex');

for (const algo of ['sha1', 'sha256']) {
  test(`a ${algo} publisher is reachable on the hash of "/<rest>"`, async () => {
    const name = `/hash/${algo}/secret-name`;
    const hash = hex(algo, name);
    const sub = await Client.join(server.wsBase, `/${algo}/${hash}`, 'subscribe');
    const upper = await Client.join(server.wsBase, `/${algo}/${hash.toUpperCase()}`, 'subscribe');
    const pub = await Client.join(server.wsBase, `/${algo}${name}`, 'publish');
    await sub.event('published', pub.id);
    await upper.event('published', pub.id);
    await pub.event('subscribed', sub.id);
    await pub.event('subscribed', upper.id);
    pub.send({ method: 'NOTIFY', to: sub.id, data: 'via hash' });
    assert.deepEqual(await sub.next(), { method: 'NOTIFY', from: pub.id, data: 'via hash' });
    await Promise.all([sub, upper, pub].map((c) => c.close()));
  });

  test(`publishing on a ${algo} hash path is refused with 4002`, async () => {
    const hash = hex(algo, '/hash/refused');
    const sub = await Client.join(server.wsBase, `/${algo}/${hash}`, 'subscribe');
    const thief = await Client.open(server.wsBase, `/${algo}/${hash}`, 'publish');
    assert.match((await thief.next()).reason, /^hash-path-publish: /);
    assert.deepEqual(await thief.closed, { code: 4002, reason: 'hash-path-publish' });
    assert.ok(await sub.quiet(200));
    await sub.close();
  });
}

test('a subscriber on a malformed hash path is refused with 4003', async () => {
  for (const path of ['/sha1/not-a-hash', '/sha256/abc', `/sha1/${hex('sha256', 'x')}`]) {
    const client = await Client.open(server.wsBase, path, 'subscribe');
    assert.match((await client.next()).reason, /^invalid-path: /, path);
    assert.deepEqual(await client.closed, { code: 4003, reason: 'invalid-path' });
  }
});

test('plain and hashed streams are separate', async () => {
  const plainSub = await Client.join(server.wsBase, '/hash/plain', 'subscribe');
  const pub = await Client.join(server.wsBase, '/sha1/hash/plain', 'publish');
  assert.ok(await plainSub.quiet(200), 'the plain path heard the hashed publisher');
  await Promise.all([plainSub, pub].map((c) => c.close()));
});
