// The page's path rules against the cases it shares with the server's (core/tests/page-paths.rs
// reads the same file), and the promise behind them: whatever text names a stream, the
// connection stays on the configured server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  normalizePath,
  streamUrl,
  StreamClient,
  StreamPathError,
  MAX_PATH_BYTES_LIMIT,
  RESERVED_SEGMENTS,
} from '../../public/js/streams-client.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/stream-paths.json', import.meta.url), 'utf8'));
const ORIGIN = 'http://127.0.0.1:8787';

test('every shared case: the page accepts exactly the listed paths and refuses the rest with the listed code', () => {
  assert.ok(fixture.cases.length > 50);
  for (const { input, path, refused, maxBytes } of fixture.cases) {
    const options = maxBytes ? { maxBytes } : {};
    if (refused) {
      assert.throws(
        () => normalizePath(input, options),
        (err) => err instanceof StreamPathError && err.code === refused && err.sentence.length > 10,
        `refuses ${JSON.stringify(input)}`,
      );
    } else {
      assert.equal(normalizePath(input, options), path, `normalizes ${JSON.stringify(input)}`);
      // What is checked is what is sent: the URL keeps the path byte for byte.
      assert.equal(streamUrl(input, ORIGIN).pathname, path, `sends ${JSON.stringify(input)} as checked`);
      // Normalizing is idempotent, so a path passed on in a link normalizes to itself.
      assert.equal(normalizePath(path, options), path);
    }
  }
});

test('the reserved first segments are the server\'s (core/tests/page-paths.rs checks its side)', () => {
  assert.deepEqual([...RESERVED_SEGMENTS], fixture.reservedSegments);
});

test('text that is not a Unicode string is refused', () => {
  for (const input of [undefined, null, 42, {}, ['/a'], '/\ud800', '/a\udc00b']) {
    assert.throws(() => normalizePath(input), StreamPathError, String(input));
  }
  assert.equal(MAX_PATH_BYTES_LIMIT, 2048);
});

test('stream URLs stay on the server they are given, whatever the path says', () => {
  for (const { input, refused } of fixture.cases) {
    let url;
    try {
      url = streamUrl(input, ORIGIN);
    } catch (err) {
      assert.ok(refused, `${JSON.stringify(input)} threw ${err}`);
      continue;
    }
    assert.equal(url.host, '127.0.0.1:8787', JSON.stringify(input));
    assert.equal(url.protocol, 'ws:');
    assert.equal(url.search, '');
  }
  assert.equal(streamUrl('/a', new URL('https://x.example/page?q=1#f')).toString(), 'wss://x.example/a');
  assert.throws(() => streamUrl('/a', 'javascript:alert(1)'), TypeError);
});

test('the client connects to a path on its own origin only, or to the URL it is explicitly given', () => {
  const opened = [];
  class FakeSocket extends EventTarget {
    constructor(url) {
      super();
      opened.push(url);
    }
    close() {}
  }
  const made = [];
  const client = (target, options = {}) => {
    const c = new StreamClient(target, 'subscribe', { WebSocket: FakeSocket, ...options });
    made.push(c);
    return c.connect();
  };

  client('/streams/demo', { server: 'https://streams.example' });
  client('streams/demo', { server: new URL('http://127.0.0.1:9/x?y') });
  client('wss://signal.example/streams/demo');
  assert.deepEqual(opened, [
    'wss://streams.example/streams/demo?mode=subscribe',
    'ws://127.0.0.1:9/streams/demo?mode=subscribe',
    'wss://signal.example/streams/demo?mode=subscribe',
  ]);

  for (const hostile of ['//attacker.example/x', '/\\attacker.example/y', '/%5Cattacker.example/y', '/../x']) {
    assert.throws(() => client(hostile, { server: 'https://streams.example' }), StreamPathError, hostile);
  }
  for (const url of ['javascript:alert(1)', 'data:text/plain,x', 'ftp://attacker.example/x']) {
    assert.throws(() => client(url), TypeError, url);
  }
  // Node has no page origin: a path needs the server named.
  assert.throws(() => client('/streams/demo'), TypeError);
  assert.equal(opened.length, 3);
  // The fake sockets never open: stop the clients from trying again.
  for (const c of made) c.close();
});
