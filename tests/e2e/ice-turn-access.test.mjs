// Fail-closed TURN (issue 11, item 2): with a TURN source configured, credentials go only to
// connections and requests that passed a real access check (a valid token, or an Origin listed
// in ALLOWED_ORIGINS), unless TURN_OPEN=true; everyone else gets the ICE_SERVERS entries only.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { join, open } from '../support/access.mjs';
import { mintToken } from '../../scripts/token.mjs';

const servers = [];
after(() => Promise.all(servers.map((s) => s.stop())));

async function start(bindings) {
  const server = await startServer({ bindings });
  servers.push(server);
  return server;
}

const STUN = { urls: ['stun:127.0.0.1:3478'] };
const TURN = {
  ICE_SERVERS: JSON.stringify([STUN]),
  TURN_URLS: 'turn:127.0.0.1:3478?transport=udp',
  TURN_SECRET: 'turn-shared-secret',
};
const SECRET = 'turn-access-e2e-secret-at-least-32-bytes';
const APP = 'https://app.example';

const api = (server, { query = '', headers } = {}) =>
  fetch(new URL(`/api/ice-servers${query}`, server.url), { headers });

/** What `GET /peerconnection` on a fresh connection gives. */
async function overSocket(server, path, options) {
  const client = await join(server.wsBase, path, options);
  client.send({ method: 'GET', resource: '/peerconnection', msg_id: 'ice' });
  const answer = await client.next((f) => f?.msg_id === 'ice');
  client.close();
  assert.equal(answer.code, 'success', JSON.stringify(answer));
  return answer.result;
}

const hasTurn = (servers) => servers.some((s) => [s.urls].flat().some((u) => u.startsWith('turn')));

test('by default an anonymous client gets the static entries only, over HTTP and on the socket', async () => {
  const server = await start(TURN);
  const res = await api(server);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { iceServers: [STUN] }, 'no TURN credentials, no ttl');
  const result = await overSocket(server, '/turn-access/anon', { mode: 'subscribe' });
  assert.deepEqual(result, { configuration: { iceServers: [STUN] } });
  // The operator is told, once, that nobody can have the credentials.
  await server.waitForLog(/no client can get its credentials/);
  await server.waitForLog(/ICE: TURN credentials only for connections and requests with nothing/);
});

test('a valid token earns TURN credentials; a hash-only subscriber without one does not', async () => {
  const server = await start({ ...TURN, TOKEN_SECRET: SECRET, SUBSCRIBE_AUTH: 'hash-only' });
  const exp = Math.floor(Date.now() / 1000) + 600;
  const publish = mintToken({ secret: SECRET, path: '/sha1/turn-access', mode: 'publish', exp });
  const pub = await overSocket(server, '/sha1/turn-access', { mode: 'publish', token: publish });
  assert.ok(hasTurn(pub.configuration.iceServers), JSON.stringify(pub));
  assert.equal(pub.ttl, 3600, 'the default lifetime is an hour');

  // The hash-only subscriber joins without a token (allowed) but gets no TURN.
  const hash = '/sha1/' + (await import('node:crypto')).createHash('sha1').update('/turn-access').digest('hex');
  const sub = await overSocket(server, hash, { mode: 'subscribe' });
  assert.deepEqual(sub, { configuration: { iceServers: [STUN] } });

  // Over HTTP: a token for the stream the request names (ICE_API_AUTH stays open).
  const subscribe = mintToken({ secret: SECRET, path: hash, mode: 'subscribe', exp });
  const withToken = await api(server, { query: `?path=${hash}&mode=subscribe&token=${subscribe}` });
  assert.ok(hasTurn((await withToken.json()).iceServers));
  const bearer = await api(server, {
    query: `?path=${hash}&mode=subscribe`,
    headers: { Authorization: `Bearer ${subscribe}` },
  });
  assert.ok(hasTurn((await bearer.json()).iceServers));
  const forged = await api(server, { query: `?path=${hash}&mode=subscribe&token=${subscribe}x` });
  assert.deepEqual(await forged.json(), { iceServers: [STUN] }, 'a bad token is no token');
  const anonymous = await api(server);
  assert.deepEqual(await anonymous.json(), { iceServers: [STUN] });
  await server.waitForLog(/ICE: TURN credentials only for connections and requests with a valid token;/);
});

test('an Origin listed in ALLOWED_ORIGINS earns TURN credentials; other origins and none do not', async () => {
  const server = await start({ ...TURN, ALLOWED_ORIGINS: APP, ICE_CORS_ORIGINS: APP });
  const listed = await overSocket(server, '/turn-access/origin', { mode: 'subscribe', headers: { Origin: APP } });
  assert.ok(hasTurn(listed.configuration.iceServers));
  const none = await overSocket(server, '/turn-access/origin', { mode: 'subscribe' });
  assert.deepEqual(none, { configuration: { iceServers: [STUN] } });
  assert.ok(hasTurn((await (await api(server, { headers: { Origin: APP } })).json()).iceServers));
  assert.deepEqual(await (await api(server, { headers: { Origin: 'https://evil.example' } })).json(), {
    iceServers: [STUN],
  });
  assert.deepEqual(await (await api(server)).json(), { iceServers: [STUN] });
});

test('a client cannot grant itself TURN by sending the header the router sets', async () => {
  const server = await start(TURN);
  const headers = { 'X-Named-Streams-Ice-Grant': 'turn' };
  const result = await overSocket(server, '/turn-access/forged', { mode: 'publish', headers });
  assert.deepEqual(result, { configuration: { iceServers: [STUN] } });
});

test('the grant outlives hibernation of the stream object', async () => {
  const server = await start({ ...TURN, ALLOWED_ORIGINS: APP });
  const client = await join(server.wsBase, '/turn-access/sleep', { mode: 'publish', headers: { Origin: APP } });
  const anonymous = await join(server.wsBase, '/turn-access/sleep', { mode: 'subscribe' });
  await client.event('subscribed', anonymous.id);
  await anonymous.event('published', client.id);
  // Idleness is the point, so this wait is deliberate: the local runtime evicts an idle object
  // after about 10 s (as in hibernation.test.mjs), and the next frame wakes it.
  await new Promise((r) => setTimeout(r, 12_000));
  const woke = server.nextLog(/"event":"woke"/);
  client.send({ method: 'GET', resource: '/peerconnection', msg_id: 1 });
  anonymous.send({ method: 'GET', resource: '/peerconnection', msg_id: 2 });
  await woke;
  const granted = await client.next((f) => f?.msg_id === 1);
  const refused = await anonymous.next((f) => f?.msg_id === 2);
  assert.ok(hasTurn(granted.result.configuration.iceServers));
  assert.deepEqual(refused.result.configuration.iceServers, [STUN]);
  client.close();
  anonymous.close();
});

test('TURN_OPEN=true gives everyone TURN credentials, and says so in the log', async () => {
  const server = await start({ ...TURN, TURN_OPEN: 'true' });
  assert.ok(hasTurn((await (await api(server)).json()).iceServers));
  const result = await overSocket(server, '/turn-access/open', { mode: 'subscribe' });
  assert.ok(hasTurn(result.configuration.iceServers));
  await server.waitForLog(/ICE: TURN credentials go to every client \(TURN_OPEN=true\)/);
});

test('the policy is logged once per isolate, not per request or wake-up', async () => {
  const server = await start({ ...TURN, TOKEN_SECRET: SECRET });
  for (let i = 0; i < 3; i++) await api(server);
  const c = await open(server.wsBase, '/turn-access/log?mode=subscribe');
  c.close();
  await server.waitForLog(/ICE: TURN credentials only/);
  assert.equal(server.logs.filter((l) => /ICE: TURN credentials only/.test(l)).length, 1, server.logs.join('\n'));
});

test('4xx answers of the API are never cached and readable by listed origins', async () => {
  const server = await start({ ...TURN, TOKEN_SECRET: SECRET, ICE_API_AUTH: 'stream', ICE_CORS_ORIGINS: APP });
  const res = await api(server, { query: '?path=/x&mode=subscribe', headers: { Origin: APP } });
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('access-control-allow-origin'), APP);
  assert.match(await res.text(), /^token-missing: /);
  const other = await api(server, { query: '?path=/x&mode=subscribe', headers: { Origin: 'https://evil.example' } });
  assert.equal(other.status, 401);
  assert.equal(other.headers.get('cache-control'), 'no-store');
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  const post = await fetch(new URL('/api/ice-servers', server.url), { method: 'POST', headers: { Origin: APP } });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('cache-control'), 'no-store');
  assert.equal(post.headers.get('access-control-allow-origin'), APP);
});
