// The client's `token` option against a token-protected runtime: it reaches the server (the
// connection is admitted; without it, refused), and it appears in no console output, no event,
// no printed client and no runtime log line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { startServer } from '../support/server.mjs';
import { connect } from '../../public/js/streams-client.js';
import { mintToken } from '../../scripts/token.mjs';

const SECRET = 'client-token-secret-0123456789abcdef';
const exp = () => Math.floor(Date.now() / 1000) + 600;

let server;
before(async () => {
  server = await startServer({ bindings: { TOKEN_SECRET: SECRET } });
});
after(() => server?.stop());

/** Everything written to the console or to stdout/stderr while `fn` runs. */
async function captureOutput(fn) {
  const written = [];
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'];
  const saved = methods.map((m) => console[m]);
  const writes = [process.stdout.write, process.stderr.write];
  for (const m of methods) console[m] = (...args) => written.push(args.map((a) => inspect(a, { depth: 5 })).join(' '));
  process.stdout.write = (chunk, ...rest) => written.push(String(chunk)) && writes[0].call(process.stdout, chunk, ...rest);
  process.stderr.write = (chunk, ...rest) => written.push(String(chunk)) && writes[1].call(process.stderr, chunk, ...rest);
  try {
    await fn();
  } finally {
    methods.forEach((m, i) => {
      console[m] = saved[i];
    });
    [process.stdout.write, process.stderr.write] = writes;
  }
  return written.join('\n');
}

const next = (client, type) => new Promise((resolve) => client.on(type, resolve));
/** Resolves with `created`; rejects if the connection closes first (a refusal). */
const admitted = (client) =>
  new Promise((resolve, reject) => {
    client.on('created', resolve);
    client.on('close', ({ code, reason }) => reject(new Error(`closed ${code} ${reason} before created`)));
  });

test('the token option admits the connection and is never printed', async () => {
  const path = '/client/token';
  const token = mintToken({ secret: SECRET, path, mode: 'publish', exp: exp() });
  const viewerToken = mintToken({ secret: SECRET, path, mode: 'subscribe', exp: exp() });
  const events = [];
  const output = await captureOutput(async () => {
    const pub = connect(`${server.wsBase}${path}`, 'publish', { token, reconnect: false });
    for (const type of ['open', 'created', 'subscribed', 'error', 'close']) pub.on(type, (d) => events.push(d));
    const created = await admitted(pub);
    assert.match(created.id, /^[0-9a-f]{24}$/);

    // The same option on a path with the page-less `server` option; a wrong token is refused.
    const sub = connect(path, 'subscribe', { server: server.url, token: viewerToken, reconnect: false });
    await admitted(sub);
    const wrong = connect(path, 'subscribe', { server: server.url, token, reconnect: false });
    for (const type of ['error', 'close']) wrong.on(type, (d) => events.push(d));
    const [error, closed] = await Promise.all([next(wrong, 'error'), next(wrong, 'close')]);
    assert.equal(error.code, 'token-wrong-mode');
    assert.equal(closed.code, 4015);

    // Printing the clients, as an app debugging them might, shows no token either.
    console.log(pub, sub, wrong, pub.url, pub.options);
    console.log(JSON.stringify({ url: pub.url, options: pub.options }));
    for (const c of [pub, sub, wrong]) c.close();
  });
  assert.ok(output.includes('StreamClient'), 'the capture saw the printed clients');
  for (const secret of [token, viewerToken]) {
    assert.ok(!output.includes(secret), 'a token was printed');
    assert.ok(!JSON.stringify(events).includes(secret), 'a token is in an event');
    assert.ok(!server.logs.join('\n').includes(secret), 'the runtime logged a token');
  }
});

test('without the option the same connection is refused: the token is what admitted it', async () => {
  const client = connect('/client/token-missing', 'publish', { server: server.url, reconnect: false });
  const [error, closed] = await Promise.all([next(client, 'error'), next(client, 'close')]);
  assert.equal(error.code, 'token-missing');
  assert.deepEqual([closed.code, closed.willReconnect], [4010, false]);
  assert.throws(() => connect('/x', 'publish', { server: server.url, token: 42 }), TypeError);
});
