// What plain HTTP requests get: the page at /, and clear errors on stream paths.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { rawUpgrade } from '../support/raw.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(() => server.stop());

test('the page is served at /', async () => {
  const res = await fetch(server.url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/html/);
  assert.match(await res.text(), /Named Streams/);
});

test('a stream path without a WebSocket upgrade gets 426', async () => {
  for (const path of ['/streams/1', '/streams/1?mode=publish', '/anything?mode=subscribe']) {
    const res = await fetch(new URL(path, server.url));
    assert.equal(res.status, 426, path);
    assert.match(await res.text(), /^upgrade-required: /);
  }
});

test('a method other than GET gets 405', async () => {
  const res = await fetch(new URL('/streams/1?mode=publish', server.url), { method: 'POST', body: 'x' });
  assert.equal(res.status, 405);
  assert.match(await res.text(), /^method-not-allowed: /);
});

test('an upgrade without a valid mode gets 400 with the reason', async () => {
  // `watch` is a mode (rooms); `listen` is not.
  for (const path of ['/streams/1', '/streams/1?mode=', '/streams/1?mode=listen', '/streams/1?mode=Watch']) {
    const { status, body, socket } = await rawUpgrade(server.url, path);
    socket.destroy();
    assert.equal(status, 400, path);
    assert.match(body, /^invalid-mode: /);
  }
});

test('a valid upgrade is switched to a WebSocket', async () => {
  const { status, socket } = await rawUpgrade(server.url, '/streams/http-ok?mode=subscribe');
  socket.destroy();
  assert.equal(status, 101);
});
