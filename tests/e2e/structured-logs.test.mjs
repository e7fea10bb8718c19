// Structured logs (issue 13, item 2): every line the Worker writes is one JSON object with a
// level and an event; refusals and server closes are logged once each, with their code; and no
// line carries a secret: the run below uses tokens, resume values and TURN credentials, and
// every one of them is looked for in every line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { open, refusal } from '../support/access.mjs';
import { Client } from '../support/client.mjs';
import { rawUpgrade, frameReader } from '../support/raw.mjs';
import { mintToken } from '../../scripts/token.mjs';

const SECRET = 'structured-logs-token-secret-32-bytes!';
const TURN_SECRET = 'structured-logs-turn-secret';
const LEVELS = ['info', 'warn', 'error'];

let server;
before(async () => {
  server = await startServer({
    bindings: {
      TOKEN_SECRET: SECRET,
      TURN_SECRET,
      TURN_URLS: 'turn:127.0.0.1:3478?transport=udp',
      ICE_SERVERS: '[]',
      RESUME_GRACE_SECONDS: '5',
    },
  });
});
after(() => server?.stop());

const exp = () => Math.floor(Date.now() / 1000) + 600;
const token = (path, mode, label) => mintToken({ secret: SECRET, path, mode, exp: exp(), label });

/** Everything secret that went over the wire in the run: never to be found in a log line. */
const secrets = new Set([SECRET, TURN_SECRET]);
const remember = (...values) => values.filter(Boolean).forEach((v) => secrets.add(String(v)));

/** Asks for the ICE configuration on the socket and remembers the TURN credentials in it. */
async function turnCredentials(client) {
  client.send({ method: 'GET', resource: '/peerconnection', msg_id: 'ice' });
  const answer = await client.next((f) => f?.msg_id === 'ice');
  const turn = answer.result.configuration.iceServers.filter((s) => s.username);
  assert.ok(turn.length > 0, JSON.stringify(answer));
  for (const s of turn) remember(s.username, s.credential);
}

test('a session with tokens, TURN and resume logs JSON lines, each refusal once, and no secret', async () => {
  const p = '/logs/session';
  const pubToken = token(p, 'publish', 'log-test-label');
  const subToken = token(p, 'subscribe');
  remember(pubToken, subToken);

  const pub = await Client.open(server.wsBase, `${p}?token=${pubToken}`, 'publish');
  const created = await pub.event('created');
  pub.id = created.data.id;
  remember(created.data.resume);
  await turnCredentials(pub);

  // A subscriber over raw TCP, so that its connection can be cut without a close frame.
  const up = await rawUpgrade(server.url, `${p}?mode=subscribe&token=${subToken}`);
  assert.equal(up.status, 101);
  const first = await frameReader(up.socket, up.rest).next();
  remember(first.data.resume);
  await pub.event('subscribed', first.data.id);

  // Refusals: no token, a forged one, a second publisher, a replayed resume value.
  const forged = mintToken({ secret: 'another-secret-of-at-least-32-bytes!!', path: p, mode: 'subscribe', exp: exp() });
  remember(forged);
  assert.equal((await refusal(server.wsBase, p, { mode: 'subscribe' })).code, 'token-missing');
  assert.equal((await refusal(server.wsBase, p, { mode: 'subscribe', token: forged })).code, 'token-bad-signature');
  assert.equal((await refusal(server.wsBase, p, { mode: 'publish', token: pubToken })).code, 'publisher-exists');

  // The subscriber drops and resumes; its old value is then replayed and refused.
  up.socket.resetAndDestroy();
  await server.waitForEvent('away', (e) => e.member === first.data.id);
  const back = await Client.open(server.wsBase, `${p}?resume=${encodeURIComponent(first.data.resume)}`, 'subscribe');
  const resumed = await back.event('created');
  assert.equal(resumed.data.resumed, true);
  remember(resumed.data.resume);
  const replay = await Client.open(server.wsBase, `${p}?resume=${encodeURIComponent(first.data.resume)}`, 'subscribe');
  assert.match((await replay.next()).reason, /^resume-invalid: /);
  assert.equal((await replay.closed).code, 4030);

  // The HTTP APIs, with tokens in the query and in a header.
  const ice = await fetch(new URL(`/api/ice-servers?path=${p}&mode=subscribe&token=${subToken}`, server.url));
  for (const s of (await ice.json()).iceServers) remember(s.username, s.credential);
  const status = await fetch(new URL(`/api/streams${p}`, server.url), { headers: { Authorization: `Bearer ${subToken}` } });
  assert.equal((await status.json()).live, true);
  assert.equal((await fetch(new URL(`/api/streams${p}?token=${forged}`, server.url))).status, 401);

  back.close();
  await server.waitForEvent('left', (e) => e.member === first.data.id);
  pub.close();
  await server.waitForEvent('left', (e) => e.member === pub.id);

  // Every line is a JSON object with a level and an event.
  assert.ok(server.logs.length > 10, server.logs.join('\n'));
  for (const line of server.logs) {
    let parsed;
    assert.doesNotThrow(() => (parsed = JSON.parse(line)), `not JSON: ${line}`);
    assert.equal(typeof parsed, 'object', line);
    assert.ok(LEVELS.includes(parsed.level), `no level: ${line}`);
    assert.match(parsed.event, /^[a-z]+(-[a-z]+)*$/, `no event: ${line}`);
  }
  // No line carries a secret, whole or its signature (the last part of a token or resume value).
  assert.ok(secrets.size >= 10, `only ${secrets.size} secrets were used`);
  for (const secret of secrets) {
    const signature = secret.split('.').at(-1);
    const pieces = signature.length >= 16 ? [secret, signature] : [secret];
    for (const line of server.logs) {
      for (const piece of pieces) assert.ok(!line.includes(piece), `a secret in the log: ${line}`);
    }
  }

  // Each refusal once, with its code (and its close code when on a socket, HTTP status else).
  const refused = server.events('refused');
  const count = (code) => refused.filter((e) => e.code === code).length;
  assert.equal(count('token-missing'), 1, JSON.stringify(refused));
  assert.equal(count('token-bad-signature'), 2, JSON.stringify(refused));
  assert.equal(count('publisher-exists'), 1, JSON.stringify(refused));
  assert.equal(count('resume-invalid'), 1, JSON.stringify(refused));
  const socketRefusal = refused.find((e) => e.code === 'publisher-exists');
  assert.deepEqual(
    { stream: socketRefusal.stream, role: socketRefusal.role, close: socketRefusal.close },
    { stream: p, role: 'pub', close: 4001 },
  );
  assert.equal(refused.find((e) => e.code === 'token-missing').close, 4010);
  assert.deepEqual(
    refused.filter((e) => e.code === 'token-bad-signature').map((e) => e.close ?? e.status).sort(),
    [401, 4012],
  );
  // The membership, as the log tells it.
  const about = (event, member) => server.events(event).filter((e) => e.member === member);
  assert.equal(about('joined', pub.id).length, 1);
  assert.equal(about('joined', first.data.id).length, 1);
  assert.deepEqual(
    about('away', first.data.id).map((e) => [e.role, e.close]),
    [['sub', 1006]],
  );
  assert.equal(about('resumed', first.data.id).length, 1);
  assert.deepEqual(
    about('left', first.data.id).map((e) => [e.role, e.close, e.was_away]),
    [['sub', 1000, false]],
  );
  assert.deepEqual(
    about('left', pub.id).map((e) => [e.role, e.subscribers, e.live]),
    [['pub', 0, false]],
  );
  // The label is logged when the token admits a connection: the publisher, and the second
  // publisher whose valid token got it as far as the stream, which refused it.
  assert.equal(server.events('token-admitted').filter((e) => e.label === 'log-test-label').length, 2);
});

test('a server close is logged once with its code', async () => {
  const p = '/logs/replaced';
  const sub = token(p, 'subscribe');
  // A resume while the old socket still looks open replaces it (close 4032).
  const c = await open(server.wsBase, p, { mode: 'subscribe', token: sub });
  const f = await c.next();
  c.id = f.data.id;
  const value = { client: c, resume: f.data.resume };
  const taken = await Client.open(server.wsBase, `${p}?resume=${encodeURIComponent(value.resume)}`, 'subscribe');
  await taken.event('created');
  assert.match((await value.client.next()).reason, /^replaced: /);
  const closed = await server.waitForEvent('closed', (e) => e.member === value.client.id);
  assert.deepEqual(
    { stream: closed.stream, role: closed.role, code: closed.code, close: closed.close, level: closed.level },
    { stream: p, role: 'sub', code: 'replaced', close: 4032, level: 'info' },
  );
  assert.equal(server.events('closed').filter((e) => e.member === value.client.id).length, 1);
  taken.close();
});
