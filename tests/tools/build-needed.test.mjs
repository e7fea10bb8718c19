// scripts/build's rebuild decision (scripts/build-needed) and its use under `wrangler dev`
// (NS_BUILD_IF_NEEDED=1), on scratch trees with a fake worker-build: no Rust is compiled.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '../..');
const T0 = Date.now() / 1000;
const scratch = [];
after(() => scratch.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A scratch checkout with the build's inputs, all last changed 100 s ago. */
function tree() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'build-needed-'));
  scratch.push(dir);
  const files = {
    'src/lib.rs': '',
    'src/router.rs': '',
    'core/src/lib.rs': '',
    'Cargo.toml': '',
    'Cargo.lock': '',
    'core/Cargo.toml': '',
    'rust-toolchain.toml': '',
    'README.md': '',
    'public/index.html': '',
    'tests/e2e/x.test.mjs': '',
  };
  for (const [name, text] of Object.entries(files)) write(dir, name, text);
  fs.mkdirSync(path.join(dir, 'scripts'));
  for (const script of ['build', 'build-needed', 'lib.sh']) {
    fs.copyFileSync(path.join(repo, 'scripts', script), path.join(dir, 'scripts', script));
  }
  ageAll(dir, T0 - 100);
  return dir;
}

function write(dir, name, text) {
  fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
  fs.writeFileSync(path.join(dir, name), text);
}

/** Sets the time of every file and folder under `dir` to `t` (seconds). */
function ageAll(dir, t) {
  for (const entry of fs.readdirSync(dir, { recursive: true })) fs.utimesSync(path.join(dir, entry), t, t);
  fs.utimesSync(dir, t, t);
}

const touch = (dir, name, t) => fs.utimesSync(path.join(dir, name), t, t);

/** A finished build whose stamp says it started at `t`. */
function built(dir, t = T0 - 50) {
  write(dir, 'build/worker/shim.mjs', '');
  write(dir, 'build/.built', '');
  touch(dir, 'build/.built', t);
}

/** Runs scripts/build-needed on `dir` with no build tools on PATH but `tools`; `{ needed, why }`. */
function decide(dir, tools = '') {
  const PATH = tools ? `${tools}:/usr/bin:/bin` : '/usr/bin:/bin';
  const run = spawnSync(path.join(dir, 'scripts/build-needed'), [dir], { env: { PATH }, encoding: 'utf8' });
  assert.ok(run.status === 0 || run.status === 1, run.stderr);
  return { needed: run.status === 0, why: run.stdout.trim() };
}

test('no build yet, or no stamp: needed', () => {
  const dir = tree();
  assert.deepEqual(decide(dir), { needed: true, why: 'no build yet' });
  write(dir, 'build/worker/shim.mjs', '');
  assert.equal(decide(dir).needed, true);
});

test('an unchanged tree is not rebuilt, whatever the build itself wrote', () => {
  const dir = tree();
  built(dir);
  assert.equal(decide(dir).needed, false);
  // The build's own outputs and files that are not inputs do not count.
  write(dir, 'target/wasm32-unknown-unknown/release/x.wasm', '');
  write(dir, 'build/index.js', '');
  for (const name of ['README.md', 'public/index.html', 'tests/e2e/x.test.mjs']) touch(dir, name, T0);
  assert.equal(decide(dir).needed, false);
});

test('any input newer than the build: needed, and it says which', () => {
  for (const input of ['src/router.rs', 'core/src/lib.rs', 'Cargo.toml', 'Cargo.lock', 'core/Cargo.toml', 'rust-toolchain.toml', 'scripts/build']) {
    const dir = tree();
    built(dir);
    touch(dir, input, T0);
    assert.deepEqual(decide(dir), { needed: true, why: `${input} changed since the last build` }, input);
  }
});

test('a newer build tool: needed, and it says which', () => {
  for (const tool of ['worker-build', 'wasm-bindgen', 'wasm-opt']) {
    const dir = tree();
    const tools = path.join(dir, 'tools');
    write(dir, `tools/${tool}`, '#!/bin/sh\n');
    fs.chmodSync(path.join(tools, tool), 0o755);
    touch(dir, `tools/${tool}`, T0 - 100);
    built(dir);
    assert.equal(decide(dir, tools).needed, false, tool);
    touch(dir, `tools/${tool}`, T0);
    assert.deepEqual(decide(dir, tools), { needed: true, why: `${path.join(tools, tool)} changed since the last build` }, tool);
  }
});

test('a source file added or removed: needed', () => {
  const dir = tree();
  built(dir);
  write(dir, 'core/src/new_module.rs', '');
  assert.equal(decide(dir).needed, true);

  const again = tree();
  built(again);
  fs.rmSync(path.join(again, 'src/router.rs'));
  assert.equal(decide(again).needed, true);
});

/**
 * Runs scripts/build in `dir` with a fake worker-build that logs each run to build.log and writes
 * the shim; `during` runs inside the fake build (as an edit saved mid-build would).
 */
function build(dir, env = {}, during = '') {
  const home = path.join(dir, '.fake-cargo');
  const fake = path.join(home, 'bin/worker-build');
  const script = `#!/bin/sh\necho run >> build.log\nmkdir -p build/worker\n: > build/worker/shim.mjs\n${during}\n`;
  // Written once: a newer worker-build is itself a reason to rebuild.
  if (!fs.existsSync(fake) || fs.readFileSync(fake, 'utf8') !== script) {
    write(dir, '.fake-cargo/bin/worker-build', script);
    fs.chmodSync(fake, 0o755);
    touch(dir, '.fake-cargo/bin/worker-build', T0 - 100);
    // The build's wasm-opt step (npm's binaryen in a real tree), found first on the PATH.
    write(dir, '.fake-cargo/bin/wasm-opt', '#!/bin/sh\n');
    fs.chmodSync(path.join(home, 'bin/wasm-opt'), 0o755);
  }
  const run = spawnSync(path.join(dir, 'scripts/build'), [], {
    env: { PATH: '/usr/bin:/bin', CARGO_HOME: home, ...env },
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  return fs.existsSync(path.join(dir, 'build.log')) ? fs.readFileSync(path.join(dir, 'build.log'), 'utf8').split('\n').length - 1 : 0;
}

test('under wrangler dev the build runs once at start-up, then again only after an edit', () => {
  const dir = tree();
  const ifNeeded = { NS_BUILD_IF_NEEDED: '1' };
  assert.equal(build(dir, ifNeeded), 1, 'first build');
  assert.equal(build(dir, ifNeeded), 1, "wrangler's duplicate start-up run is skipped");
  assert.equal(build(dir, ifNeeded), 1);
  write(dir, 'src/router.rs', '// edited');
  assert.equal(build(dir, ifNeeded), 2, 'the edit is built');
  assert.equal(build(dir, ifNeeded), 2);
  assert.equal(build(dir), 3, 'a direct scripts/build always builds');
});

test('an edit saved while a build runs is built by the next run', () => {
  const dir = tree();
  const ifNeeded = { NS_BUILD_IF_NEEDED: '1' };
  // The source is saved while the (fake) build runs.
  assert.equal(build(dir, ifNeeded, 'touch src/router.rs'), 1);
  assert.equal(build(dir, ifNeeded), 2);
  assert.equal(build(dir, ifNeeded), 2);
});

test('a run that waited for a build in progress skips when that build covered the edit', async () => {
  const dir = tree();
  const ifNeeded = { NS_BUILD_IF_NEEDED: '1' };
  assert.equal(build(dir, ifNeeded), 1);
  // One save, two file events: wrangler starts a build for each, the second while the first runs.
  write(dir, 'src/router.rs', '// edited');
  const waitFor = 'while [ ! -f go ]; do sleep 0.01; done';
  build(dir, {}, ''); // (re)writes the fake; a direct build, so the count is now 2
  const fake = path.join(dir, '.fake-cargo/bin/worker-build');
  fs.writeFileSync(fake, `#!/bin/sh\necho run >> build.log\nmkdir -p build/worker\n: > build/worker/shim.mjs\n${waitFor}\n`);
  touch(dir, '.fake-cargo/bin/worker-build', T0 - 100);
  write(dir, 'src/router.rs', '// edited again');
  const env = { PATH: '/usr/bin:/bin', CARGO_HOME: path.join(dir, '.fake-cargo'), ...ifNeeded };
  const run = () => {
    const child = spawn(path.join(dir, 'scripts/build'), [], { env, cwd: dir, stdio: 'ignore' });
    return { pid: child.pid, done: new Promise((resolve) => child.on('close', resolve)) };
  };
  const first = run();
  let second;
  try {
    await until(() => runs(dir) === 3, 'the first build to start');
    second = run();
    await until(() => waitingOnLock(second.pid), 'the second build to wait for the first');
  } finally {
    fs.writeFileSync(path.join(dir, 'go'), ''); // lets the fake builds finish, whatever happened
  }
  assert.deepEqual(await Promise.all([first.done, second.done]), [0, 0]);
  assert.equal(runs(dir), 3, 'the second run found the edit built and skipped');
});

const runs = (dir) => fs.readFileSync(path.join(dir, 'build.log'), 'utf8').split('\n').length - 1;

/** Whether `pid` has a child `flock` (scripts/build blocked on build/.lock). Linux only. */
function waitingOnLock(pid) {
  return fs.readdirSync('/proc').some((entry) => {
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8').trim();
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/.exec(stat);
      return comm === 'flock' && Number(rest.split(' ')[1]) === pid;
    } catch {
      return false;
    }
  });
}

/** Resolves once `condition()` holds, checking every 10 ms for at most 10 s. */
async function until(condition, what) {
  for (let i = 0; i < 1000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}
