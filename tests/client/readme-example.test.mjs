// The README's embedding example runs as written (only its URL and the package import are pointed at
// this test's server and file).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { startServer } from '../support/server.mjs';
import { Client } from '../support/client.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let server;
let dir;
before(async () => {
  server = await startServer();
  dir = await mkdtemp(path.join(tmpdir(), 'readme-example-'));
});
after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

async function exampleModule() {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const block = /<!-- readme-example -->\s*```js\n([\s\S]*?)```\s*<!-- \/readme-example -->/.exec(readme);
  assert.ok(block, 'README has the marked example');
  const code = block[1]
    .replace("'named-streams-client'", `'${pathToFileURL(path.join(root, 'public/js/streams-client.js'))}'`)
    .replace('ws://127.0.0.1:8787', server.wsBase);
  const file = path.join(dir, 'example.mjs');
  // Exported so the test can close it; the README's readers keep theirs open.
  await writeFile(file, `${code}\nexport { client };\n`);
  return file;
}

test('the README example greets the publisher and logs what it says', async () => {
  const publisher = await Client.join(server.wsBase, '/streams/demo', 'publish');
  const logged = [];
  const log = console.log;
  console.log = (...args) => logged.push(args);
  try {
    const { client } = await import(await exampleModule());
    const hello = await publisher.next((f) => f.method === 'NOTIFY');
    assert.deepEqual(hello.data, { hello: 'from a viewer' });
    publisher.send({ method: 'NOTIFY', to: hello.from, data: 'welcome' });
    await new Promise((resolve) => client.on('notify', resolve));
    const left = new Promise((resolve) => client.on('unpublished', resolve));
    await publisher.close();
    await left;
    client.close();
  } finally {
    console.log = log;
  }
  assert.deepEqual(logged[0][1], 'welcome');
  assert.match(logged[0][0], /^[0-9a-f]{24} says$/);
  assert.match(logged[1][0], /^[0-9a-f]{24} stopped publishing$/);
});
