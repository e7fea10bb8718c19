// The test proxy itself (tests/support/tcp-proxy.mjs), against a plain TCP server: it forwards
// both ways, a severed link is a reset on both sides, a frozen link carries nothing yet stays
// open and delivers what waited once thawed, and a cut proxy refuses connections until healed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startProxy } from '../support/tcp-proxy.mjs';

/** A TCP endpoint that keeps what it receives and lets the test wait for it. */
function endpoint(socket) {
  let data = '';
  const waiters = new Set();
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    data += chunk;
    for (const w of waiters) w();
  });
  const errored = new Promise((resolve) => socket.on('error', resolve));
  return {
    socket,
    errored,
    get data() {
      return data;
    },
    /** Resolves once everything received so far ends with `text`. */
    until(text, ms = 2000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`waited for ${JSON.stringify(text)}, have ${JSON.stringify(data)}`)), ms);
        const check = () => {
          if (!data.endsWith(text)) return false;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
          return true;
        };
        if (!check()) waiters.add(check);
      });
    },
  };
}

let target;
const accepted = [];
before(async () => {
  target = net.createServer((socket) => accepted.push(endpoint(socket)));
  await new Promise((resolve) => target.listen(0, '127.0.0.1', resolve));
});
after(() => new Promise((resolve) => target.close(resolve)));

/** Opens a connection through the proxy; resolves with both ends and its link. */
async function connectThrough(proxy) {
  const linked = proxy.nextLink();
  const client = endpoint(net.connect(proxy.port, '127.0.0.1'));
  await once(client.socket, 'connect');
  const link = await linked;
  // The server side appears once the proxy's upstream connection is accepted.
  while (accepted.length === 0) await once(target, 'connection');
  return { client, server: accepted.shift(), link };
}

test('forwards both ways; a severed link is a TCP reset on both sides', async () => {
  const proxy = await startProxy(target.address().port);
  const { client, server, link } = await connectThrough(proxy);
  client.socket.write('hello');
  await server.until('hello');
  server.socket.write('back');
  await client.until('back');

  link.sever();
  const [clientError, serverError] = await Promise.all([client.errored, server.errored]);
  assert.equal(clientError.code, 'ECONNRESET');
  assert.equal(serverError.code, 'ECONNRESET');
  await link.closed;
  assert.equal(proxy.connections(), 0);
  await proxy.close();
});

test('a frozen link carries nothing yet stays open; thawed, it delivers what waited, in order', async () => {
  const proxy = await startProxy(target.address().port);
  const a = await connectThrough(proxy);
  const b = await connectThrough(proxy);

  a.link.freeze();
  assert.equal(a.link.frozen, true);
  a.client.socket.write('up-1;');
  a.server.socket.write('down-1;');
  a.client.socket.write('up-2;');
  a.server.socket.write('down-2;');
  // The other link still flows: its round trip is the proof that time passed for a's bytes.
  b.client.socket.write('ping');
  await b.server.until('ping');
  b.server.socket.write('pong');
  await b.client.until('pong');
  assert.equal(a.server.data, '', 'nothing crossed the frozen link upstream');
  assert.equal(a.client.data, '', 'nothing crossed the frozen link downstream');
  assert.ok(!a.client.socket.destroyed && !a.server.socket.destroyed, 'both ends are still open');
  assert.equal(proxy.connections(), 2);

  a.link.thaw();
  await a.server.until('up-1;up-2;');
  await a.client.until('down-1;down-2;');
  assert.equal(a.server.data, 'up-1;up-2;');
  assert.equal(a.client.data, 'down-1;down-2;');
  a.client.socket.write('after');
  await a.server.until('after');
  await proxy.close();
});

test('a cut proxy resets every link and refuses new connections until healed', async () => {
  const proxy = await startProxy(target.address().port);
  const { client } = await connectThrough(proxy);
  proxy.cut();
  assert.equal((await client.errored).code, 'ECONNRESET');

  const refused = net.connect(proxy.port, '127.0.0.1');
  const [error] = await once(refused, 'error');
  assert.equal(error.code, 'ECONNRESET');

  proxy.heal();
  const again = await connectThrough(proxy);
  again.client.socket.write('healed');
  await again.server.until('healed');
  await proxy.close();
});
