// Reserved paths, hash prefix spellings and msg_id echoes (issue 11, item 5): /api/ and the
// page's asset folders are never streams, /SHA1/-style spellings of the hash prefixes are
// refused with their own code, and a msg_id comes back exactly as the client wrote it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { rawUpgrade } from '../support/raw.mjs';
import { refusal } from '../support/access.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

const RESERVED = [
  '/api',
  '/api/',
  '/api/x',
  '/api/ice-servers/',
  '/api/ice-servers/x',
  '/API/ice-servers',
  '/%61pi/x',
  '/js/',
  '/js/missing.js',
  '/JS/streams-client.js',
];

test('paths under /api/ and the asset folders are 404 with or without an upgrade', async () => {
  for (const path of RESERVED) {
    const plain = await fetch(new URL(path, server.url));
    assert.equal(plain.status, 404, path);
    assert.match(await plain.text(), /^not-found: /, path);
    for (const mode of ['publish', 'subscribe']) {
      const upgrade = await rawUpgrade(server.url, `${path}?mode=${mode}`);
      upgrade.socket.destroy();
      assert.equal(upgrade.status, 404, `${path} ${mode}`);
      assert.match(upgrade.body, /^not-found: /);
    }
  }
  // The endpoint itself and the assets are still served.
  assert.equal((await fetch(new URL('/api/ice-servers', server.url))).status, 200);
  assert.equal((await fetch(new URL('/js/streams-client.js', server.url))).status, 200);
});

test('case and encoding variants of /sha1/ and /sha256/ are refused with hash-prefix-variant', async () => {
  const hex = '04e5383618cc0f1dd6a5a433ba49396eccd080b4';
  for (const [path, mode] of [
    [`/SHA1/${hex}`, 'subscribe'],
    ['/Sha1/streams/1', 'publish'],
    ['/SHA256/streams/1', 'publish'],
    ['/sHa256/x', 'subscribe'],
    ['/%73ha1/streams/1', 'publish'],
  ]) {
    const got = await refusal(server.wsBase, path, { mode });
    assert.equal(got.code, 'hash-prefix-variant', path);
    assert.equal(got.close, 4009, path);
  }
});

/** Opens a stream connection and collects its frames as raw text. */
async function rawClient(path) {
  const ws = new WebSocket(`${server.wsBase}${path}?mode=subscribe`);
  const texts = [];
  let wake = () => {};
  ws.addEventListener('message', (e) => {
    texts.push(e.data);
    wake();
  });
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', reject, { once: true });
  });
  const next = async () => {
    while (texts.length === 0) await new Promise((r) => (wake = r));
    return texts.shift();
  };
  await next(); // created
  return { ws, next };
}

test('a msg_id the server cannot decode is echoed exactly as written', async () => {
  const client = await rawClient('/echo/msg-id');
  for (const id of ['1e400', '123456789012345678901234567890', '"\\ud800"', '-0', '{"a" : [1, 2]}']) {
    client.ws.send(`{"method":"NOPE","msg_id":${id}}`);
    const answer = await client.next();
    assert.ok(answer.startsWith(`{"msg_id":${id},"code":"failed"`), answer);
    client.ws.send(`{"method":"GET","resource":"/nothing","msg_id":${id}}`);
    assert.ok((await client.next()).startsWith(`{"msg_id":${id},`));
  }
  client.ws.close();
});
