// Every ICE source, over both ways of asking: GET /peerconnection and GET /api/ice-servers.
// TURN_OPEN=true here, so that every client may have TURN credentials: who gets them otherwise
// is tested in ice-turn-access.test.mjs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { startServer } from '../support/server.mjs';
import { Client } from '../support/client.mjs';

const servers = [];
after(() => Promise.all(servers.map((s) => s.stop())));

async function start(bindings) {
  const server = await startServer({ bindings });
  servers.push(server);
  return server;
}

const api = (server, init) => fetch(new URL('/api/ice-servers', server.url), init);

async function askOverSocket(server, path) {
  const client = await Client.join(server.wsBase, path, 'subscribe');
  client.send({ method: 'GET', resource: '/peerconnection', msg_id: 1 });
  const answer = await client.next();
  await client.close();
  return { client, answer };
}

/** What coturn computes to check a TURN REST credential. */
const expectedCredential = (secret, username) =>
  crypto.createHmac('sha1', secret).update(username).digest('base64');

test('by default: public STUN, no TTL, no CORS, never cached', async () => {
  const server = await start({});
  const res = await api(server, { headers: { Origin: 'https://elsewhere.example' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), null);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.match(res.headers.get('content-type'), /application\/json/);
  assert.deepEqual(await res.json(), { iceServers: [{ urls: ['stun:stun.cloudflare.com:3478'] }] });
});

test('TURN REST credentials are minted per request and check out like coturn checks them', async () => {
  const secret = 'e2e-shared-secret';
  const server = await start({
    ICE_SERVERS: '[]',
    TURN_URLS: 'turn:127.0.0.1:3478?transport=udp,turn:127.0.0.1:3478?transport=tcp',
    TURN_SECRET: secret,
    TURN_TTL: '600',
    TURN_OPEN: 'true',
  });
  const before = Math.floor(Date.now() / 1000);
  const body = await (await api(server)).json();
  assert.equal(body.ttl, 600);
  assert.equal(body.iceServers.length, 1);
  const [turn] = body.iceServers;
  assert.deepEqual(turn.urls, ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp']);
  const [expiry, label] = turn.username.split(':');
  assert.ok(Number(expiry) >= before + 600 && Number(expiry) <= before + 602, turn.username);
  assert.match(label, /^[0-9a-f]{24}$/);
  assert.equal(turn.credential, expectedCredential(secret, turn.username));

  // Over the socket, the label is the connection's own id.
  const { client, answer } = await askOverSocket(server, '/ice-sources/turn');
  assert.equal(answer.result.ttl, 600);
  const socketTurn = answer.result.configuration.iceServers[0];
  assert.equal(socketTurn.username.split(':')[1], client.id);
  assert.equal(socketTurn.credential, expectedCredential(secret, socketTurn.username));
});

test('listed origins may read the API, and preflights are answered', async () => {
  // Separated by a space: every list variable splits on commas or whitespace.
  const server = await start({ ICE_CORS_ORIGINS: 'https://other.example https://app.example' });
  const allowed = await api(server, { headers: { Origin: 'https://app.example' } });
  assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example');
  const other = await api(server, { headers: { Origin: 'https://evil.example' } });
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  const preflight = await api(server, {
    method: 'OPTIONS',
    headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'GET' },
  });
  assert.equal(preflight.status, 204);
  assert.match(preflight.headers.get('access-control-allow-methods'), /GET/);
  const post = await api(server, { method: 'POST', body: '{}' });
  assert.equal(post.status, 405);
});

/** A local stand-in for Cloudflare's generate-ice-servers API (the real one is unreachable). */
async function fakeCloudflare(respond) {
  const calls = [];
  const fake = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      calls.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      respond(res);
    });
  });
  await new Promise((r) => fake.listen(0, '127.0.0.1', r));
  servers.push({ stop: () => new Promise((r) => fake.close(r)) });
  return { base: `http://127.0.0.1:${fake.address().port}/v1`, calls };
}

const CLOUDFLARE_ANSWER = {
  iceServers: [
    { urls: ['stun:stun.cloudflare.com:3478', 'stun:stun.cloudflare.com:53'] },
    {
      urls: [
        'turn:turn.cloudflare.com:3478?transport=udp',
        'turn:turn.cloudflare.com:53?transport=udp',
        'turns:turn.cloudflare.com:443?transport=tcp',
      ],
      username: 'cf-user',
      credential: 'cf-credential',
    },
  ],
};

test('Cloudflare TURN: the documented request, and port-53 URLs dropped from the answer', async () => {
  const cf = await fakeCloudflare((res) => {
    res.writeHead(201, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(CLOUDFLARE_ANSWER));
  });
  const server = await start({
    ICE_SERVERS: '[]',
    CF_TURN_KEY_ID: 'key-123',
    CF_TURN_API_TOKEN: 'cf-token',
    CF_TURN_TTL: '3600',
    CF_TURN_API_BASE: cf.base,
    TURN_OPEN: 'true',
  });
  const body = await (await api(server)).json();
  assert.deepEqual(cf.calls, [
    {
      method: 'POST',
      url: '/v1/turn/keys/key-123/credentials/generate-ice-servers',
      auth: 'Bearer cf-token',
      body: '{"ttl":3600}',
    },
  ]);
  assert.equal(body.ttl, 3600);
  assert.deepEqual(body.iceServers, [
    { urls: ['stun:stun.cloudflare.com:3478'] },
    {
      urls: ['turn:turn.cloudflare.com:3478?transport=udp', 'turns:turn.cloudflare.com:443?transport=tcp'],
      username: 'cf-user',
      credential: 'cf-credential',
    },
  ]);
  const { answer } = await askOverSocket(server, '/ice-sources/cf');
  assert.equal(answer.result.configuration.iceServers.length, 2);
  // The answer is reused for a tenth of its life: the socket's request made no second call.
  assert.equal(cf.calls.length, 1);
  assert.ok(answer.result.ttl <= 3600 && answer.result.ttl >= 3590, `ttl ${answer.result.ttl}`);
});

test('when Cloudflare fails, the other sources answer and the failure is logged', async () => {
  const cf = await fakeCloudflare((res) => {
    res.writeHead(500);
    res.end('boom');
  });
  const server = await start({
    CF_TURN_KEY_ID: 'key-123',
    CF_TURN_API_TOKEN: 'cf-token',
    CF_TURN_API_BASE: cf.base,
    TURN_OPEN: 'true',
  });
  const body = await (await api(server)).json();
  assert.deepEqual(body, { iceServers: [{ urls: ['stun:stun.cloudflare.com:3478'] }] });
  await server.waitForEvent('cloudflare-turn-unavailable', (e) => e.error === 'HTTP 500');
});

test('an invalid configuration is reported, not replaced by a default', async () => {
  const server = await start({ ICE_SERVERS: '[{"urls":"http://not-ice"}]' });
  const res = await api(server);
  assert.equal(res.status, 500);
  assert.match(await res.text(), /^ice-unavailable: /);
  const { answer } = await askOverSocket(server, '/ice-sources/bad');
  assert.equal(answer.code, 'failed');
  assert.equal(answer.msg_id, 1);
  assert.match(answer.reason, /^ice-unavailable: /);
  await server.waitForLog(/ICE configuration is invalid: ICE_SERVERS\[0\]\.urls/);
});

test('configuration problems are logged once per isolate, not per request or stream', async () => {
  const server = await start({ ICE_SERVERS: 'not json', MAX_SUBSCRIBERS: 'many' });
  for (let i = 0; i < 3; i++) assert.equal((await api(server)).status, 500);
  for (const path of ['/ice-sources/once/a', '/ice-sources/once/b', '/ice-sources/once/c']) {
    const { answer } = await askOverSocket(server, path);
    assert.match(answer.reason, /^ice-unavailable: /);
  }
  const count = (re) => server.events('config-problem').filter((e) => re.test(e.message)).length;
  assert.equal(count(/ICE configuration is invalid: ICE_SERVERS is not valid JSON/), 1, server.logs.join('\n'));
  assert.equal(count(/MAX_SUBSCRIBERS="many" is not a whole number/), 1, server.logs.join('\n'));
});

test('ICE_API_AUTH=stream: the API needs what connecting to the named stream needs', async () => {
  const { mintToken } = await import('../../scripts/token.mjs');
  const secret = 'ice-api-e2e-secret-at-least-32-bytes!';
  const server = await start({ TOKEN_SECRET: secret, ICE_API_AUTH: 'stream' });
  const ask = (query, headers) => fetch(new URL(`/api/ice-servers${query}`, server.url), { headers });
  const missing = await ask('?path=/ice/api&mode=subscribe');
  assert.equal(missing.status, 401);
  assert.match(await missing.text(), /^token-missing: /);
  const unnamed = await ask('');
  assert.equal(unnamed.status, 400);
  const exp = Math.floor(Date.now() / 1000) + 60;
  const token = mintToken({ secret, path: '/ice/api', mode: 'subscribe', exp });
  const byQuery = await ask(`?path=/ice/api&mode=subscribe&token=${token}`);
  assert.equal(byQuery.status, 200);
  assert.ok(Array.isArray((await byQuery.json()).iceServers));
  const byHeader = await ask('?path=/ice/api&mode=subscribe', { Authorization: `Bearer ${token}` });
  assert.equal(byHeader.status, 200);
  const otherStream = await ask(`?path=/ice/other&mode=subscribe&token=${token}`);
  assert.equal(otherStream.status, 401);
  assert.match(await otherStream.text(), /^token-wrong-path: /);
});
