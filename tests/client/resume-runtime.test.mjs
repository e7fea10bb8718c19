// The client's resume against the real runtime, its network broken by a TCP proxy: a reset or a
// silent connection is resumed with the same id and the peer notices nothing; a resume needs no
// token (one that expired meanwhile does not matter); past the grace period the client joins
// afresh and the peer sees an ordinary departure and arrival.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { startProxy } from '../support/tcp-proxy.mjs';
import { refusal } from '../support/access.mjs';
import { connect } from '../../public/js/streams-client.js';
import { mintToken } from '../../scripts/token.mjs';

const SECRET = 'client-resume-secret-0123456789abcdef';
const now = () => Math.floor(Date.now() / 1000);
let server;
let shortGrace;
const closers = [];
before(async () => {
  server = await startServer({ bindings: { TOKEN_SECRET: SECRET, RESUME_GRACE_SECONDS: '20' } });
  shortGrace = await startServer({ bindings: { RESUME_GRACE_SECONDS: '1' } });
});
after(async () => {
  for (const close of closers.reverse()) await close();
  await server?.stop();
  await shortGrace?.stop();
});

/** A client on `origin` that logs its events; closed after the tests. */
function open(origin, path, mode, options = {}) {
  // A handshake the proxy cuts can hang in node's WebSocket: give such attempts up quickly.
  const client = connect(path, mode, { server: origin, minBackoffMs: 50, maxBackoffMs: 200, connectTimeoutMs: 1000, ...options });
  const log = [];
  for (const type of ['state', 'created', 'resumed', 'subscribed', 'unsubscribed', 'published', 'unpublished', 'notify', 'error']) {
    client.on(type, (detail) => log.push({ type, ...detail }));
  }
  closers.push(() => client.close());
  return { client, log };
}
async function proxy(srv) {
  const p = await startProxy(Number(srv.url.port));
  closers.push(() => p.close());
  return p;
}
/** Resolves with the first logged or future event `type` matching `match`. */
function event({ client, log }, type, match = () => true, ms = 20_000) {
  const seen = log.find((e) => e.type === type && match(e));
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} within ${ms} ms`)), ms);
    const listener = (e) => {
      if (!match(e.detail)) return;
      clearTimeout(timer);
      client.removeEventListener(type, listener);
      resolve(e.detail);
    };
    client.addEventListener(type, listener);
  });
}
const types = (log, ...wanted) => log.filter((e) => wanted.includes(e.type));

test('a reset connection is resumed with its id, without its expired token; the publisher notices nothing', async () => {
  const path = '/client-resume/reset';
  const pub = open(server.url.origin, path, 'publish', { token: mintToken({ secret: SECRET, path, mode: 'publish', exp: now() + 600 }) });
  await event(pub, 'created');
  // A token that expires within two seconds of joining.
  const subToken = mintToken({ secret: SECRET, path, mode: 'subscribe', exp: now() + 2 });
  const net = await proxy(server);
  const sub = open(net.origin, path, 'subscribe', { token: subToken });
  const { id } = await event(sub, 'created');
  await event(pub, 'subscribed', (e) => e.id === id);

  net.cut();
  await event(sub, 'state', (e) => e.state === 'resuming');
  pub.client.notify(id, { while: 'away' });
  // Wait until the token is refused as expired: only a resume can get back in now.
  for (;;) {
    // The wrong mode keeps the probe from ever joining; expiry is checked first.
    const probe = await refusal(server.wsBase, path, { mode: 'publish', token: subToken });
    if (probe.code === 'token-expired') break;
    assert.equal(probe.code, 'token-wrong-mode');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  net.heal();
  await event(sub, 'resumed');
  assert.equal(sub.client.id, id);
  assert.deepEqual((await event(sub, 'notify')).data, { while: 'away' });
  assert.deepEqual(
    types(sub.log, 'state').map((e) => e.state),
    ['connected', 'resuming', 'connected'],
  );
  assert.equal(types(sub.log, 'created').length, 1);
  assert.deepEqual(types(sub.log, 'error'), []);
  // The publisher saw one arrival, and the probes (which never joined) nothing else.
  assert.deepEqual(
    types(pub.log, 'subscribed', 'unsubscribed').map((e) => `${e.type}:${e.id === id}`),
    ['subscribed:true'],
  );
});

test('a silent connection is given up by the heartbeat and resumed; the server retires the zombie', async () => {
  const path = '/client-resume/silent';
  const net = await proxy(server);
  const pubToken = mintToken({ secret: SECRET, path, mode: 'publish', exp: now() + 600 });
  const pub = open(net.origin, path, 'publish', { token: pubToken, heartbeatMs: 200, heartbeatTimeoutMs: 400 });
  const { id } = await event(pub, 'created');
  const sub = open(server.url.origin, path, 'subscribe', { token: mintToken({ secret: SECRET, path, mode: 'subscribe', exp: now() + 600 }) });
  await event(sub, 'published', (e) => e.id === id);

  net.freeze();
  await event(pub, 'state', (e) => e.state === 'resuming');
  net.heal();
  await event(pub, 'resumed');
  assert.equal(pub.client.id, id);
  // Signaling works both ways on the resumed connection.
  sub.client.notify(id, { hello: 1 });
  assert.deepEqual((await event(pub, 'notify')).data, { hello: 1 });
  assert.deepEqual(
    types(sub.log, 'published', 'unpublished').map((e) => e.type),
    ['published'],
  );
});

test('past the grace period the resume is refused and the client joins afresh with a new id', async () => {
  const path = '/client-resume/expired';
  const pub = open(shortGrace.url.origin, path, 'publish');
  await event(pub, 'created');
  const net = await proxy(shortGrace);
  const sub = open(net.origin, path, 'subscribe');
  const { id } = await event(sub, 'created');
  await event(pub, 'subscribed', (e) => e.id === id);

  net.cut();
  // The grace period ends: the publisher hears the departure once.
  await event(pub, 'unsubscribed', (e) => e.id === id);
  net.heal();
  const fresh = await event(sub, 'state', (e) => e.state === 'fresh-join').catch((err) => {
    throw new Error(`${err.message}: ${JSON.stringify(sub.log)}`);
  });
  assert.equal(fresh.previousId, id);
  assert.match(fresh.reason, /^resume-expired: /);
  const { id: newId } = await event(sub, 'created', (e) => e.id !== id);
  await event(pub, 'subscribed', (e) => e.id === newId);
  await event(sub, 'published');
  assert.equal(types(pub.log, 'unsubscribed').length, 1);
});
