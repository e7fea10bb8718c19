// Cloudflare TURN is asked once, not once per client (issue 11, item 3): its answer is kept per
// isolate for a tenth of its lifetime with one call in flight at a time, a failure is not
// retried for a while, and the HTTP API is rate limited per client.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { join } from '../support/access.mjs';
import { fakeCloudflare } from '../support/fake-cloudflare.mjs';

const stops = [];
after(() => Promise.all(stops.map((stop) => stop())));

async function start(options) {
  const server = await startServer(options);
  stops.push(() => server.stop());
  return server;
}

async function fake(options) {
  const cf = await fakeCloudflare(options);
  stops.push(cf.stop);
  return cf;
}

const cloudflare = (cf) => ({
  ICE_SERVERS: '[]',
  CF_TURN_KEY_ID: 'key-1',
  CF_TURN_API_TOKEN: 'cf-token',
  CF_TURN_API_BASE: cf.base,
  TURN_OPEN: 'true',
  // These tests are about the upstream; the per-client limit has its own test below.
  ICE_API_RATE: '0',
});

const api = (server, headers) => fetch(new URL('/api/ice-servers', server.url), { headers });
const cfServers = (servers) => servers.filter((s) => s.username === 'cf-user');

test('60 HTTP requests at once and 100 socket requests make one upstream call', async () => {
  // The fake answers slowly, so that the first call is still in flight when the others ask.
  const cf = await fake({ delayMs: 300 });
  const server = await start({ bindings: cloudflare(cf) });
  const answers = await Promise.all(Array.from({ length: 60 }, () => api(server).then((r) => r.json())));
  for (const answer of answers) assert.equal(cfServers(answer.iceServers).length, 1, JSON.stringify(answer));

  const client = await join(server.wsBase, '/upstream/socket', { mode: 'publish' });
  for (let i = 0; i < 100; i++) client.send({ method: 'GET', resource: '/peerconnection', msg_id: i });
  for (let i = 0; i < 100; i++) {
    const answer = await client.next((f) => f?.msg_id === i);
    assert.equal(cfServers(answer.result.configuration.iceServers).length, 1);
  }
  client.close();
  assert.ok(cf.calls.length <= 2, `${cf.calls.length} upstream calls for 160 requests`);
});

test('a failing upstream is asked once for a burst of requests, which are answered without it', async () => {
  const cf = await fake({ status: 500, body: 'boom', delayMs: 100 });
  const server = await start({ bindings: { ...cloudflare(cf), ICE_SERVERS: '[{"urls":"stun:127.0.0.1:3478"}]' } });
  const answers = await Promise.all(Array.from({ length: 40 }, () => api(server).then((r) => r.json())));
  for (const answer of answers) assert.deepEqual(answer, { iceServers: [{ urls: 'stun:127.0.0.1:3478' }] });
  assert.ok(cf.calls.length <= 2, `${cf.calls.length} upstream calls for 40 requests`);
  await server.waitForEvent('cloudflare-turn-unavailable', (e) => e.error === 'HTTP 500');
});

test('without the binding, ICE_API_RATE limits the API per client address (IPv6 per /64)', async () => {
  const server = await start({ bindings: { ICE_API_RATE: '3' } });
  const from = (ip) => ({ 'CF-Connecting-IP': ip });
  for (const ip of ['2001:db8:5:6::1', '2001:db8:5:6::2', '2001:DB8:5:6:ffff::1']) {
    assert.equal((await api(server, from(ip))).status, 200, ip);
  }
  const refused = await api(server, from('2001:db8:5:6::3'));
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get('cache-control'), 'no-store');
  assert.match(await refused.text(), /^connect-rate: /);
  assert.equal((await api(server, from('2001:db8:5:7::1'))).status, 200, 'another /64');
  assert.equal((await api(server, from('192.0.2.9'))).status, 200, 'an IPv4 address');
});

test('with the ICE_LIMITER binding, the platform counts the API requests', async () => {
  const server = await start({
    bindings: { ICE_API_RATE: '0' },
    ratelimits: { ICE_LIMITER: { simple: { limit: 2, period: 60 } } },
  });
  const from = (ip) => ({ 'CF-Connecting-IP': ip });
  assert.equal((await api(server, from('198.51.100.1'))).status, 200);
  assert.equal((await api(server, from('::ffff:198.51.100.1'))).status, 200);
  const refused = await api(server, from('198.51.100.1'));
  assert.equal(refused.status, 429, 'the v4-mapped form counted as the same client');
  assert.match(await refused.text(), /^connect-rate: /);
  assert.equal((await api(server, from('198.51.100.2'))).status, 200);
});
