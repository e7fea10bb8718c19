// GET /api/streams/<stream path> (issue 13, item 1): the status of absent, waiting, live,
// hibernated, hashed and token-protected streams, asked of the stream's Durable Object, which
// creates nothing for a stream that never existed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from '../support/server.mjs';
import { join } from '../support/access.mjs';
import { rawUpgrade } from '../support/raw.mjs';
import { mintToken } from '../../scripts/token.mjs';

const ABSENT = { live: false, subscribers: 0, since: null, mode: 'mesh' };
const SECRET = 'status-e2e-secret-of-at-least-32-bytes';

let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

/** GET /api/streams<streamPath>; resolves with the response and its body (JSON when 200). */
async function status(srv, streamPath, { headers, token, method = 'GET' } = {}) {
  const url = new URL(`/api/streams${streamPath}`, srv.url);
  if (token) url.searchParams.set('token', token);
  const res = await fetch(url, { method, headers });
  const text = await res.text();
  return { res, status: res.status, body: res.status === 200 ? JSON.parse(text) : text };
}

const sha1 = (text) => crypto.createHash('sha1').update(text).digest('hex');

test('a stream nobody joined is absent; the answer is JSON and never cached', async () => {
  const { res, status: code, body } = await status(server, '/status/absent');
  assert.equal(code, 200);
  assert.deepEqual(body, ABSENT);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('content-type'), 'application/json');
});

test('viewers waiting for the publisher, then live with the publisher since it arrived, then not', async () => {
  const p = '/status/lifecycle';
  const s1 = await join(server.wsBase, p, { mode: 'subscribe' });
  assert.deepEqual((await status(server, p)).body, { ...ABSENT, subscribers: 1 });

  const before = Date.now();
  const pub = await join(server.wsBase, p, { mode: 'publish' });
  const after = Date.now();
  const s2 = await join(server.wsBase, p, { mode: 'subscribe' });
  await pub.event('subscribed', s2.id);
  const live = (await status(server, p)).body;
  assert.equal(live.live, true);
  assert.equal(live.subscribers, 2);
  assert.equal(live.mode, 'mesh');
  assert.ok(live.since >= before - 5 && live.since <= after + 5, `since ${live.since} not in [${before}, ${after}]`);

  pub.close();
  await s1.event('unpublished', pub.id);
  assert.deepEqual((await status(server, p)).body, { ...ABSENT, subscribers: 2 });
  s1.close();
  s2.close();
  await s2.closed;
  await s1.closed;
});

test('a hibernated stream answers from its sockets, without being rebuilt', async () => {
  const p = '/status/asleep';
  const pub = await join(server.wsBase, p, { mode: 'publish' });
  const sub = await join(server.wsBase, p, { mode: 'subscribe' });
  await pub.event('subscribed', sub.id);
  const since = (await status(server, p)).body.since;
  // Idleness is the point: the local runtime evicts an idle object after ~10 s.
  await sleep(12_000);
  const woke = server.events('woke').length;
  assert.deepEqual((await status(server, p)).body, { live: true, subscribers: 1, since, mode: 'mesh' });
  assert.equal(server.events('woke').length, woke, 'the status rebuilt the stream');
  // The stream itself is untouched: the next frame wakes it as usual.
  sub.send({ method: 'NOTIFY', to: pub.id, data: 'still here' });
  assert.equal((await pub.next((f) => f?.method === 'NOTIFY')).data, 'still here');
  pub.close();
  sub.close();
});

test('a hash stream is known by its hash only; its plain name reveals nothing', async () => {
  const pub = await join(server.wsBase, '/sha1/status/secret', { mode: 'publish' });
  const hash = sha1('/status/secret');
  for (const asked of [`/sha1/${hash}`, `/sha1/${hash.toUpperCase()}`]) {
    const { status: code, body } = await status(server, asked);
    assert.equal(code, 200, asked);
    assert.deepEqual({ ...body, since: 0 }, { live: true, subscribers: 0, since: 0, mode: 'mesh' });
  }
  // By its plain name, the live stream gets exactly what a name nobody uses gets.
  const named = await status(server, '/sha1/status/secret');
  const unused = await status(server, '/sha1/status/nothing-here');
  assert.equal(named.status, 400);
  assert.match(named.body, /^invalid-path: /);
  assert.deepEqual([unused.status, unused.body], [named.status, named.body]);
  pub.close();
});

test('paths that are never streams, other methods, and upgrades are refused', async () => {
  assert.equal((await status(server, '/api/ice-servers')).status, 404);
  assert.equal((await status(server, '/js/main.js')).status, 404);
  assert.equal((await status(server, '/')).status, 400);
  assert.equal((await fetch(new URL('/api/streams', server.url))).status, 404);
  assert.equal((await fetch(new URL('/api/streamsx/a', server.url))).status, 404);
  const post = await status(server, '/status/x', { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.res.headers.get('cache-control'), 'no-store');
  const upgrade = await rawUpgrade(server.url, '/api/streams/status/x?mode=subscribe');
  upgrade.socket.destroy();
  assert.equal(upgrade.status, 404);
});

test('where subscribing needs a token, so does the status: by ?token= or Authorization: Bearer', async () => {
  const strict = await startServer({ bindings: { TOKEN_SECRET: SECRET, SUBSCRIBE_AUTH: 'hash-only' } });
  try {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const sub = mintToken({ secret: SECRET, path: '/status/private', mode: 'subscribe', exp });
    const pubToken = mintToken({ secret: SECRET, path: '/status/private', mode: 'publish', exp });
    const other = mintToken({ secret: SECRET, path: '/status/other', mode: 'subscribe', exp });
    const missing = await status(strict, '/status/private');
    assert.equal(missing.status, 401);
    assert.match(missing.body, /^token-missing: /);
    assert.deepEqual((await status(strict, '/status/private', { token: sub })).body, ABSENT);
    const bearer = await status(strict, '/status/private', { headers: { Authorization: `Bearer ${sub}` } });
    assert.deepEqual(bearer.body, ABSENT);
    assert.match((await status(strict, '/status/private', { token: pubToken })).body, /^token-wrong-mode: /);
    assert.match((await status(strict, '/status/private', { token: other })).body, /^token-wrong-path: /);
    assert.match((await status(strict, '/status/private', { token: `${sub}x` })).body, /^token-bad-signature: |^token-malformed: /);
    // A live stream is no different.
    const pub = await join(strict.wsBase, '/status/private', { mode: 'publish', token: pubToken });
    assert.equal((await status(strict, '/status/private')).status, 401);
    assert.equal((await status(strict, '/status/private', { token: sub })).body.live, true);
    // Hash paths are open to subscribers under hash-only, so to the status.
    assert.deepEqual((await status(strict, `/sha1/${sha1('/status/unlisted')}`)).body, ABSENT);
    pub.close();
  } finally {
    await strict.stop();
  }
});

test('the allowlists apply', async () => {
  const listed = await startServer({ bindings: { ALLOWED_PATHS: '/rooms/', ALLOWED_ORIGINS: 'https://app.example' } });
  try {
    assert.match((await status(listed, '/status/x')).body, /^path-not-allowed: /);
    const foreign = await status(listed, '/rooms/a', { headers: { Origin: 'https://evil.example' } });
    assert.equal(foreign.status, 403);
    assert.match(foreign.body, /^origin-not-allowed: /);
    assert.deepEqual((await status(listed, '/rooms/a', { headers: { Origin: 'https://app.example' } })).body, ABSENT);
  } finally {
    await listed.stop();
  }
});

test('CORS as for /api/ice-servers: listed origins may read it, errors included', async () => {
  const cors = await startServer({ bindings: { ICE_CORS_ORIGINS: 'https://app.example', TOKEN_SECRET: SECRET } });
  try {
    const ok = await status(cors, '/status/cors', { headers: { Origin: 'https://app.example' } });
    assert.equal(ok.status, 401);
    assert.equal(ok.res.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(ok.res.headers.get('vary'), 'Origin');
    const pre = await fetch(new URL('/api/streams/status/cors', cors.url), {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
    });
    assert.equal(pre.status, 204);
    assert.match(pre.headers.get('access-control-allow-headers'), /Authorization/i);
    const other = await status(cors, '/status/cors', { headers: { Origin: 'https://other.example' } });
    assert.equal(other.res.headers.get('access-control-allow-origin'), null);
  } finally {
    await cors.stop();
  }
});

test('rate limited per client: by the STATUS_LIMITER binding, else by STATUS_API_RATE', async () => {
  const from = (ip) => ({ headers: { 'CF-Connecting-IP': ip } });
  const bound = await startServer({
    bindings: { STATUS_API_RATE: '1000' },
    ratelimits: { STATUS_LIMITER: { simple: { limit: 2, period: 60 } } },
  });
  try {
    assert.equal((await status(bound, '/status/rl', from('203.0.113.9'))).status, 200);
    assert.equal((await status(bound, '/status/rl', from('203.0.113.9'))).status, 200);
    const limited = await status(bound, '/status/rl', from('203.0.113.9'));
    assert.equal(limited.status, 429);
    assert.match(limited.body, /^connect-rate: /);
    assert.equal((await status(bound, '/status/rl', from('203.0.113.10'))).status, 200);
  } finally {
    await bound.stop();
  }
  const fallback = await startServer({ bindings: { STATUS_API_RATE: '2' } });
  try {
    for (let i = 0; i < 2; i++) assert.equal((await status(fallback, '/status/rl', from('2001:db8:9::1'))).status, 200);
    assert.equal((await status(fallback, '/status/rl', from('2001:db8:9::2'))).status, 429, 'same /64');
  } finally {
    await fallback.stop();
  }
});

/**
 * Whether anything was ever written to a SQLite database file: its write-ahead log holds frames
 * not yet copied back, or the file itself holds more than its first page or a schema cookie
 * (bumped by every CREATE or DROP) above 0. A status request that opened the stream's storage
 * the way a connection does (CREATE TABLE IF NOT EXISTS, a resume key) would leave one of them.
 */
function written(file) {
  const wal = `${file}-wal`;
  if (fs.existsSync(wal) && fs.statSync(wal).size > 0) return true;
  const header = Buffer.alloc(100);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, header, 0, 100, 0);
  } finally {
    fs.closeSync(fd);
  }
  assert.equal(header.subarray(0, 16).toString('latin1'), 'SQLite format 3\0', file);
  return header.readUInt32BE(28) > 1 || header.readUInt32BE(40) > 0;
}

/** Every Durable Object database under `dir` (the runtime's own metadata.sqlite aside). */
function objectDatabases(dir) {
  return fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.sqlite') && path.basename(f) !== 'metadata.sqlite')
    .map((f) => path.join(dir, f));
}

test('asking about streams that never existed creates no state', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'status-state-'));
  try {
    const srv = await startServer({ persist: dir });
    try {
      for (const asked of ['/status/never', '/status/never/2', `/sha1/${sha1('/status/never')}`]) {
        assert.deepEqual((await status(srv, asked)).body, ABSENT, asked);
        // Asked again, still nothing: the first question left nothing to find.
        assert.deepEqual((await status(srv, asked)).body, ABSENT, asked);
      }
    } finally {
      await srv.stop();
    }
    // The local runtime keeps an empty database file for every object it started; nothing was
    // written to any of the three.
    const asked = objectDatabases(dir);
    assert.equal(asked.length, 3, asked.join('\n'));
    for (const file of asked) assert.equal(written(file), false, `${file} was written to`);

    // The check sees state where there is some: a stream that had a member (resume on, so it
    // stored it) was written to, and is the only one.
    const again = await startServer({ persist: dir });
    try {
      const member = await join(again.wsBase, '/status/real', { mode: 'subscribe' });
      assert.deepEqual((await status(again, '/status/real')).body, { ...ABSENT, subscribers: 1 });
      member.close();
      await member.closed;
    } finally {
      await again.stop();
    }
    const writtenTo = objectDatabases(dir).filter(written);
    assert.equal(writtenTo.length, 1, objectDatabases(dir).join('\n'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
