// Signed tokens against the real runtime: every refusal reason reaches a real WebSocket client
// as an error frame plus its own close code, valid tokens admit by query and by header, hash
// paths keep working alongside, and refused clients disturb nobody.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startServer } from '../support/server.mjs';
import { join, refusal } from '../support/access.mjs';
import { mintToken } from '../../scripts/token.mjs';

const SECRET = 'e2e-token-secret-0123456789abcdef-0123';
const now = () => Math.floor(Date.now() / 1000);
const mint = (path, mode, claims = {}) => mintToken({ secret: SECRET, path, mode, exp: now() + 300, ...claims });

let server;
before(async () => {
  server = await startServer({
    bindings: { TOKEN_SECRET: SECRET, PUBLISH_AUTH: 'token', SUBSCRIBE_AUTH: 'hash-only' },
  });
});
after(() => server?.stop());

test('the CLI mints the test vector documented in docs/TOKENS.md', () => {
  const doc = readFileSync(new URL('../../docs/TOKENS.md', import.meta.url), 'utf8');
  const field = (name) => doc.match(new RegExp(`<!-- vector:${name} -->\`([^\`]*)\``))[1];
  const out = execFileSync(
    'node',
    ['scripts/mint-token', '--path', field('path'), '--mode', field('mode'), '--exp', field('exp'), '--label', field('label')],
    { cwd: new URL('../..', import.meta.url), env: { ...process.env, TOKEN_SECRET: field('secret') }, encoding: 'utf8' },
  );
  assert.equal(out.trim(), field('token'));
});

test('every token refusal reaches the client with its own code and close code', async () => {
  const path = '/tokens/refusals';
  const valid = mint(path, 'publish');
  const [head, payload, signature] = valid.split('.');
  const forgedClaims = Buffer.from(JSON.stringify({ path: '/tokens/other', mode: 'publish', exp: now() + 300 })).toString('base64url');
  const cases = [
    { token: undefined, code: 'token-missing', close: 4010 },
    { token: 'not-a-token', code: 'token-malformed', close: 4011 },
    { token: `${head}.${payload}`, code: 'token-malformed', close: 4011 },
    { token: `${head}.${forgedClaims}.${signature}`, code: 'token-bad-signature', close: 4012 },
    { token: mintToken({ secret: 'another secret', path, mode: 'publish', exp: now() + 300 }), code: 'token-bad-signature', close: 4012 },
    { token: mint(path, 'publish', { exp: now() - 1 }), code: 'token-expired', close: 4013 },
    { token: mint('/tokens/elsewhere', 'publish'), code: 'token-wrong-path', close: 4014 },
    { token: mint(path, 'subscribe'), code: 'token-wrong-mode', close: 4015 },
  ];
  for (const { token, code, close } of cases) {
    const got = await refusal(server.wsBase, path, { mode: 'publish', token });
    assert.equal(got.code, code, `token ${token}`);
    assert.equal(got.frame.code, 'failed');
    assert.equal(got.close, close);
    assert.equal(got.reason, code);
  }
  // The refusals left the stream free: the valid token still publishes.
  const publisher = await join(server.wsBase, path, { mode: 'publish', token: valid });
  publisher.close();
});

test('a valid token admits by query parameter or by Authorization header', async () => {
  const path = '/tokens/valid';
  const publisher = await join(server.wsBase, path, { mode: 'publish', token: mint(path, 'publish') });
  const subscriber = await join(server.wsBase, path, {
    mode: 'subscribe',
    headers: { Authorization: `Bearer ${mint(path, 'subscribe')}` },
  });
  await publisher.event('subscribed', subscriber.id);
  await subscriber.event('published', publisher.id);
  publisher.send({ method: 'NOTIFY', to: subscriber.id, data: { type: 'offer' } });
  assert.deepEqual((await subscriber.next()).from, publisher.id);
  publisher.close();
  subscriber.close();
});

test('hash paths keep working: a publisher token for the plain name, no token for the hash', async () => {
  const name = '/sha256/tokens/hidden';
  const real = `/sha256/${createHash('sha256').update('/tokens/hidden').digest('hex')}`;
  // Without a token nobody publishes, not even on the plain name.
  assert.equal((await refusal(server.wsBase, name, { mode: 'publish' })).code, 'token-missing');
  // A token for the hash does not let anyone publish there.
  const hashToken = mint(real, 'publish');
  assert.equal((await refusal(server.wsBase, real, { mode: 'publish', token: hashToken })).code, 'hash-path-publish');
  const publisher = await join(server.wsBase, name, { mode: 'publish', token: mint(name, 'publish') });
  // hash-only: subscribers on the hash need no token ...
  const subscriber = await join(server.wsBase, real, { mode: 'subscribe' });
  await subscriber.event('published', publisher.id);
  await publisher.event('subscribed', subscriber.id);
  // ... but a plain path needs one.
  assert.equal((await refusal(server.wsBase, '/tokens/plain', { mode: 'subscribe' })).code, 'token-missing');
  const plain = await join(server.wsBase, '/tokens/plain', { mode: 'subscribe', token: mint('/tokens/plain', 'subscribe') });
  plain.close();
  publisher.close();
  subscriber.close();
});

test('refused connections disturb nobody on the stream', async () => {
  const path = '/tokens/undisturbed';
  const publisher = await join(server.wsBase, path, { mode: 'publish', token: mint(path, 'publish') });
  const subscriber = await join(server.wsBase, path, { mode: 'subscribe', token: mint(path, 'subscribe') });
  await publisher.event('subscribed', subscriber.id);
  await subscriber.event('published', publisher.id);
  for (const [mode, token] of [
    ['publish', undefined],
    ['publish', mint(path, 'publish', { exp: now() - 5 })],
    ['subscribe', 'garbage'],
    ['subscribe', mint(path, 'publish')],
  ]) {
    await refusal(server.wsBase, path, { mode, token });
  }
  assert.ok(await publisher.quiet(300), 'the publisher heard nothing of the refusals');
  assert.ok(await subscriber.quiet(0), 'nor did the subscriber');
  subscriber.send({ method: 'NOTIFY', to: publisher.id, data: { type: 'answer' } });
  assert.equal((await publisher.next()).from, subscriber.id);
  publisher.close();
  subscriber.close();
});

test('a token label is logged when it admits a connection', async () => {
  const path = '/tokens/labelled';
  const client = await join(server.wsBase, path, { mode: 'publish', token: mint(path, 'publish', { label: 'alice-42' }) });
  await server.waitForEvent('token-admitted', (e) => e.label === 'alice-42' && e.role === 'pub' && e.stream === path);
  client.close();
});

test('with only TOKEN_SECRET set, both modes need a token', async () => {
  const strict = await startServer({ bindings: { TOKEN_SECRET: SECRET } });
  try {
    const hash = `/sha1/${'0'.repeat(40)}`;
    assert.equal((await refusal(strict.wsBase, '/s', { mode: 'publish' })).code, 'token-missing');
    assert.equal((await refusal(strict.wsBase, hash, { mode: 'subscribe' })).code, 'token-missing');
    const ok = await join(strict.wsBase, hash, { mode: 'subscribe', token: mint(hash, 'subscribe') });
    ok.close();
  } finally {
    await strict.stop();
  }
});

test('without a secret everything is open, as in rtclite', async () => {
  const openServer = await startServer();
  try {
    const publisher = await join(openServer.wsBase, '/open', { mode: 'publish' });
    // Tokens are ignored where none is needed, even broken ones.
    const subscriber = await join(openServer.wsBase, '/open', { mode: 'subscribe', token: 'junk' });
    await publisher.event('subscribed', subscriber.id);
    publisher.close();
    subscriber.close();
  } finally {
    await openServer.stop();
  }
});
