// The client package (issue 14, item 1): `npm pack` in public/js gives a tarball that installs
// into an empty project with no network (it has no dependencies), whose README example runs in
// Node against the local service, whose entry points a browser bundler resolves, and whose
// declarations type-check an app that uses them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startServer } from '../support/server.mjs';
import { Client } from '../support/client.mjs';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = (name) => path.join(root, 'node_modules/.bin', name);

let server;
let dir;
let tarball;
let packed;
before(async () => {
  server = await startServer();
  dir = await mkdtemp(path.join(tmpdir(), 'client-package-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: path.join(root, 'public/js') });
  [packed] = JSON.parse(stdout);
  tarball = path.join(dir, packed.filename);
  const app = path.join(dir, 'app');
  await run('mkdir', ['-p', app]);
  await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  // --offline: nothing may come from a registry.
  await run('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app });
});
after(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const app = () => path.join(dir, 'app');

async function readmeExample() {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const block = /<!-- readme-example -->\s*```js\n([\s\S]*?)```\s*<!-- \/readme-example -->/.exec(readme);
  assert.ok(block, 'README has the marked example');
  assert.match(block[1], /from 'named-streams-client'/, 'the example imports the package by its name');
  return block[1].replace('ws://127.0.0.1:8787', server.wsBase);
}

/** Runs `file` with Node in the app, and resolves with its first `lines` lines of output. */
function runUntil(file, lines) {
  const child = spawn(process.execPath, ['--experimental-websocket', file], { cwd: app(), stdio: ['ignore', 'pipe', 'pipe'] });
  const out = [];
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      out.push(line);
      if (out.length === lines) resolve(out);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} after ${JSON.stringify(out)}: ${stderr}`)));
  });
  return { child, done };
}

test('the tarball holds the library, its declarations and its README, and nothing of the page', () => {
  const files = packed.files.map((f) => f.path).sort();
  assert.deepEqual(files, [
    'README.md',
    'package.json',
    'peer.js',
    'stream-status.js',
    'streams-client.js',
    'types/peer.d.ts',
    'types/stream-status.d.ts',
    'types/streams-client.d.ts',
  ].concat(files.filter((f) => /^[a-z-]+\.js$|^types\/[a-z-]+\.d\.ts$/.test(f))).filter((f, i, all) => all.indexOf(f) === i).sort());
  for (const needed of ['package.json', 'README.md', 'streams-client.js', 'peer.js', 'stream-status.js', 'types/streams-client.d.ts', 'types/peer.d.ts']) {
    assert.ok(files.includes(needed), `${needed} is packed`);
  }
  for (const file of files) assert.doesNotMatch(file, /^(main\.js|page\/|vendor\/)/, `${file} belongs to the page only`);
  assert.equal(packed.name, 'named-streams-client');
  assert.match(packed.version, /^\d+\.\d+\.\d+$/);
});

test('installed from the tarball, the README example runs in Node against the service', async () => {
  await writeFile(path.join(app(), 'example.mjs'), await readmeExample());
  const publisher = await Client.join(server.wsBase, '/streams/demo', 'publish');
  const { child, done } = runUntil('example.mjs', 2);
  try {
    const hello = await publisher.next((f) => f.method === 'NOTIFY');
    assert.deepEqual(hello.data, { hello: 'from a viewer' });
    publisher.send({ method: 'NOTIFY', to: hello.from, data: 'welcome' });
    await publisher.close();
    const [said, left] = await done;
    assert.match(said, /^[0-9a-f]{24} says welcome$/);
    assert.match(left, /^[0-9a-f]{24} stopped publishing$/);
  } finally {
    child.kill();
  }
});

test('a browser bundler resolves the package and bundles it with no Node built-ins', async () => {
  const entry = path.join(app(), 'web.mjs');
  await writeFile(
    entry,
    [
      "import { connect, normalizePath } from 'named-streams-client';",
      "import { createMesh, parseSignal } from 'named-streams-client/peer.js';",
      "import { fetchStreamStatus } from 'named-streams-client/stream-status.js';",
      'export { connect, normalizePath, createMesh, parseSignal, fetchStreamStatus };',
    ].join('\n'),
  );
  const out = path.join(app(), 'bundle.js');
  await run(bin('esbuild'), [entry, '--bundle', '--platform=browser', '--format=esm', `--outfile=${out}`, '--log-level=warning'], { cwd: app() });
  const bundle = await readFile(out, 'utf8');
  assert.doesNotMatch(bundle, /from ["']node:|require\(/, 'nothing Node-only');
  // The bundle works: its path rules are the package's.
  const lib = await import(pathToFileURL(out).href);
  assert.equal(lib.normalizePath('streams/demo'), '/streams/demo');
  assert.deepEqual(lib.parseSignal(null), { ok: false, reason: 'data is null, not an object' });
  assert.equal(typeof lib.createMesh, 'function');
});

test('the declarations type-check an app that uses the package (tsc --strict)', async () => {
  await writeFile(
    path.join(app(), 'app.ts'),
    `import { connect, type StreamClient } from 'named-streams-client';
import { createMesh, type Mesh } from 'named-streams-client/peer.js';
import { fetchStreamStatus, describeStatus } from 'named-streams-client/stream-status.js';

const client: StreamClient = connect('wss://streams.example.com/streams/demo', 'subscribe', { heartbeatMs: 25000 });
client.on('notify', ({ from, data }) => console.log(from.toUpperCase(), data));
client.on('close', ({ code, willReconnect }) => console.log(code + 1, willReconnect === true));
export const mesh: Mesh = createMesh({ signaling: client, onStream: (id, stream) => console.log(id, stream.id) });
export const text = fetchStreamStatus('/streams/demo').then(describeStatus);
`,
  );
  await writeFile(
    path.join(app(), 'wrong.ts'),
    `import { connect } from 'named-streams-client';
connect('/streams/demo', 'watch');
connect('/streams/demo', 'subscribe').on('notify', ({ from }) => from.toFixed());
`,
  );
  const tsc = (file) =>
    run(bin('tsc'), ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,dom', file], { cwd: app() });
  await tsc('app.ts');
  // And they are not `any`: misuse is caught.
  const wrong = await tsc('wrong.ts').then(
    () => '',
    (err) => err.stdout,
  );
  assert.match(wrong, /'"watch"' is not assignable to parameter of type 'Mode'/);
  assert.match(wrong, /Property 'toFixed' does not exist on type 'string'/);
});
