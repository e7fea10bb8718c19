// Every kind of garbage a client can send, on its own streams, then proof that the instance is
// not poisoned: a fresh stream works end to end, the garbage senders' streams still relay, and
// the runtime never logged a panic. (A panic in the Wasm instance would break every stream it
// serves, not just the sender's.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from '../support/server.mjs';
import { Client } from '../support/client.mjs';
import { rawUpgrade, clientFrame } from '../support/raw.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

const TEXT_GARBAGE = [
  '',
  'not json',
  '{',
  '{"method":"NOTIFY","to":"',
  'null',
  '[]',
  '"a string"',
  '1e999',
  '{"method":"NOTIFY","to":18446744073709551616}',
  '{"method":"NOTIFY","to":-1}',
  '{"method":"NOTIFY","to":"\\ud800","data":"\\udfff"}',
  '{"method":"GET","resource":{"a":[1,2]},"msg_id":{"nested":true}}',
  '{"method":"GET","resource":"/peerconnection/../x"}',
  '{"method":"\u0000NOTIFY"}',
  '{"method":"NOTIFY","to":"x","to":"y"}',
  '['.repeat(100_000),
  '{"a":'.repeat(10_000),
  JSON.stringify({ method: 'NOTIFY', to: 'x', data: 'y'.repeat(200 * 1024) }),
  'x'.repeat(900 * 1024),
];

const BAD_UPGRADE_PATHS = [
  '/',
  '//',
  '/%',
  '/%zz',
  '/%00',
  '/a/../b',
  '/sha1/',
  '/sha256/XYZ',
  '/sha1/' + 'a'.repeat(40),
  '/' + 'a'.repeat(5000),
  '/\u00ff\u00fe',
];

/** Writes raw bytes on a fresh TCP connection and waits for the server to answer or hang up. */
function rawBytes(bytes, ms = 2000) {
  return new Promise((resolve) => {
    const socket = net.connect(Number(server.url.port), server.url.hostname);
    let answer = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(done, ms);
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', done);
    socket.on('close', done);
    socket.write(bytes);
  });
}

/** A publisher and a subscriber that have met on `path`. */
async function pair(path) {
  const pub = await Client.join(server.wsBase, path, 'publish');
  const sub = await Client.join(server.wsBase, path, 'subscribe');
  await pub.event('subscribed', sub.id);
  await sub.event('published', pub.id);
  return { pub, sub };
}

async function relaysBothWays({ pub, sub }, tag) {
  sub.send({ method: 'NOTIFY', to: pub.id, data: `${tag} up` });
  assert.equal((await pub.next((f) => f.data === `${tag} up`)).from, sub.id);
  pub.send({ method: 'NOTIFY', to: sub.id, data: `${tag} down` });
  assert.equal((await sub.next((f) => f.data === `${tag} down`)).from, pub.id);
}

test('after every kind of garbage, other streams keep working and nothing panicked', async () => {
  const victim = await pair('/garbage/victim');

  // Text garbage from members of a stream, each answered with an error (or a close for the
  // frames past the runtime's own size limit), never a crash.
  const senders = await pair('/garbage/text');
  for (const text of TEXT_GARBAGE) {
    for (const c of [senders.pub, senders.sub]) {
      if (c.ws.readyState === WebSocket.OPEN) c.send(text);
    }
  }
  for (const c of [senders.pub, senders.sub]) {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(new Uint8Array([0xff, 0x00, 0x7b]));
  }
  // One answer per frame, to the sender alone: an error, or the departure event for a NOTIFY
  // target that does not exist; the connection stays open.
  for (const c of [senders.pub, senders.sub]) {
    const answers = [];
    for (let i = 0; i <= TEXT_GARBAGE.length; i++) answers.push(await c.next());
    assert.ok(
      answers.every((f) => f.code === 'failed' || /^un(subscribed|published)$/.test(f.data?.type)),
      JSON.stringify(answers).slice(0, 2000),
    );
    assert.ok(answers.filter((f) => f.code === 'failed').length >= TEXT_GARBAGE.length - 2);
    assert.equal(c.ws.readyState, WebSocket.OPEN);
  }

  // Frames no WebSocket API would send: invalid UTF-8 in a text frame, a reserved opcode, an
  // unmasked frame, a continuation with no start, a bad close code, and a frame cut short.
  const rawFrames = [
    clientFrame(1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])),
    clientFrame(3, 'reserved opcode'),
    Buffer.from([0x81, 0x02, 0x7b, 0x7d]),
    clientFrame(0, 'continuation'),
    clientFrame(8, Buffer.from([0x00, 0x05])),
    clientFrame(1, 'x'.repeat(300)).subarray(0, 40),
  ];
  for (const [i, frame] of rawFrames.entries()) {
    const up = await rawUpgrade(server.url, `/garbage/raw/${i}?mode=${i % 2 ? 'subscribe' : 'publish'}`);
    assert.equal(up.status, 101);
    up.socket.on('error', () => {});
    up.socket.resume();
    up.socket.write(frame);
    if (i % 2) up.socket.end();
    else await sleep(50).then(() => up.socket.resetAndDestroy());
  }

  // Malformed upgrades and requests that are not HTTP at all.
  for (const path of BAD_UPGRADE_PATHS) {
    const up = await rawUpgrade(server.url, `${path}?mode=publish`).catch((e) => ({ status: String(e) }));
    up.socket?.destroy();
  }
  const key = crypto.randomBytes(16).toString('base64');
  const host = server.url.host;
  const requests = [
    'GARBAGE\r\n\r\n',
    '\x00\x01\x02\x03\r\n\r\n',
    `GET /garbage/x?mode=publish HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
    `GET /garbage/x?mode=publish HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 99\r\n\r\n`,
    `POST /garbage/x?mode=publish HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nContent-Length: 5\r\n\r\nhello`,
    `GET /garbage/x?mode=sideways HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    `GET /garbage/x?mode=publish HTTP/1.0\r\n\r\n`,
    `GET /garbage/x?mode=publish HTTP/1.1\r\nHost: ${host}\r\nContent-Length: -1\r\n\r\n`,
    `GET /garbage/x?mode=publish HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-Web`,
    `GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
  ];
  for (const request of requests) await rawBytes(request, 1000);

  // The instance is not poisoned: a fresh stream works end to end, and so do the old ones.
  const fresh = await pair('/garbage/fresh');
  await relaysBothWays(fresh, 'fresh');
  await relaysBothWays(victim, 'victim');
  const page = await fetch(server.url);
  assert.equal(page.status, 200);
  for (const c of [fresh.pub, fresh.sub, victim.pub, victim.sub, senders.pub, senders.sub]) c.ws.close();

  const panics = server.logs.filter((l) => /panicked|RuntimeError|unreachable/i.test(l));
  assert.deepEqual(panics, []);
});
