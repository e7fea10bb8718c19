// Origin, host and path allowlists (rtclite's --origin, --host and --path) against the real
// runtime: each refusal reaches the client on the socket with its own close code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { join, rawUpgrade, refusal } from '../support/access.mjs';

let server;
before(async () => {
  server = await startServer({
    bindings: {
      ALLOWED_ORIGINS: 'https://app.example.com, http://127.0.0.1:8787',
      // A name without a port allows any port: the test server's port is random.
      ALLOWED_HOSTS: '127.0.0.1 localhost:9999',
      ALLOWED_PATHS: '/rooms/ /sha1/',
    },
  });
});
after(() => server?.stop());

test('a page from an allowed origin connects; other origins are refused', async () => {
  const ok = await join(server.wsBase, '/rooms/origin', { mode: 'publish', headers: { Origin: 'https://app.example.com' } });
  ok.close();
  for (const origin of ['https://evil.example.com', 'http://app.example.com', 'null']) {
    const got = await refusal(server.wsBase, '/rooms/origin', { mode: 'subscribe', headers: { Origin: origin } });
    assert.equal(got.code, 'origin-not-allowed', origin);
    assert.equal(got.close, 4007);
  }
});

test('clients that send no Origin (not browsers) are not refused by the origin list', async () => {
  const client = await join(server.wsBase, '/rooms/no-origin', { mode: 'publish' });
  client.close();
});

test('only allowed hosts are served', async () => {
  const allowed = await rawUpgrade(server.url, '/rooms/host?mode=publish', { host: 'localhost:9999' });
  assert.equal(allowed.frames[0]?.data?.type, 'created');
  const refused = await rawUpgrade(server.url, '/rooms/host?mode=subscribe', { host: 'evil.example.com' });
  assert.equal(refused.status, 101, 'refused on the socket, where a browser can read why');
  assert.match(refused.frames[0].reason, /^host-not-allowed: /);
  assert.deepEqual(refused.close, { code: 4008, reason: 'host-not-allowed' });
  const wrongPort = await rawUpgrade(server.url, '/rooms/host?mode=subscribe', { host: 'localhost:9998' });
  assert.equal(wrongPort.close?.code, 4008);
});

test('only streams under the allowed path prefixes are served', async () => {
  const ok = await join(server.wsBase, '/rooms/1', { mode: 'publish' });
  ok.close();
  const hashed = await join(server.wsBase, '/sha1/anything', { mode: 'publish' });
  hashed.close();
  for (const path of ['/other', '/rooms', '/roomsx/1']) {
    const got = await refusal(server.wsBase, path, { mode: 'publish' });
    assert.equal(got.code, 'path-not-allowed', path);
    assert.equal(got.close, 4006);
  }
});

test('a traversal-looking path cannot get out of an allowed prefix', async () => {
  // The runtime resolves dot segments before the Worker sees the path, so these name /admin,
  // which is outside /rooms/; the core would refuse a literal dot segment in any case.
  for (const raw of ['/rooms/../admin?mode=publish', '/rooms/%2e%2e/admin?mode=publish', '/rooms/%2E./admin?mode=publish']) {
    const got = await rawUpgrade(server.url, raw);
    assert.equal(got.close?.code, 4006, raw);
    assert.match(got.frames[0].reason, /^path-not-allowed: /);
  }
});
