// Samples the CPU of the local runtime (workerd's V8 inspector) while the load client runs one
// scenario against one target, and prints where the isolate's time went: self time per
// function, and per kind (our Wasm, the wasm-bindgen/worker-build JavaScript glue, the
// runtime's own work such as socket sends and garbage collection). Called by bench/profile.
//
//   node bench/profile.mjs <ours|js> <scenario> [args...]
// PROFILE_URLS=1 adds each function's file and line; PROFILE_PARENTS=1 lists the callers of
// the runtime's unnamed builtins.
import { Miniflare } from 'miniflare';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../tests/support/server.mjs';
import { LIMITS_OFF } from './limits.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const client = path.join(here, 'target/release/named-streams-bench');
const [target = 'ours', ...scenario] = process.argv.slice(2);
if (scenario.length === 0) scenario.push('throughput', '10', '20000', '100');
const inspectorPort = 9229 + Math.floor(Math.random() * 500);

let base;
let stop;
if (target === 'ours') {
  // The profiling build keeps the Wasm name section, so samples name our Rust functions.
  // BENCH_OURS_VARS and BENCH_OURS_SCRIPT as in bench/run.mjs: settings added, another build.
  const server = await startServer({
    bindings: { ...LIMITS_OFF, ...JSON.parse(process.env.BENCH_OURS_VARS ?? '{}') },
    scriptPath: path.resolve(process.env.BENCH_OURS_SCRIPT ?? path.join(here, '../build-profile/index.js')),
    inspectorPort,
  });
  base = server.wsBase;
  stop = server.stop;
} else {
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    inspectorPort,
    modules: true,
    scriptPath: path.join(here, 'js-reference/worker.js'),
    compatibilityDate: '2026-04-20',
    durableObjects: { STREAMS: 'Stream' },
    cf: false,
  });
  base = `ws://${(await mf.ready).host}`;
  stop = () => mf.dispose();
}

/** A minimal Chrome DevTools Protocol session over the inspector's WebSocket. */
async function inspect() {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let next = 1;
  const pending = new Map();
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  };
  return {
    send(method, params = {}) {
      const id = next++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve, reject) =>
        pending.set(id, (msg) => (msg.error ? reject(new Error(msg.error.message)) : resolve(msg.result))),
      );
    },
    close: () => ws.close(),
  };
}

function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(client, [base, target, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`load client exit ${code}`))));
  });
}

/** Where a sampled function belongs. */
function kind(frame) {
  if (frame.url.startsWith('wasm://')) return 'our Wasm';
  if (frame.url.endsWith('index.js')) return 'JS glue (wasm-bindgen + worker-build shim)';
  if (frame.url.endsWith('worker.js')) return 'reference JS';
  if (frame.functionName === '(garbage collector)') return 'garbage collector';
  if (frame.functionName === '(idle)') return 'idle';
  if (frame.functionName === '(program)') return 'runtime (native: sockets, events)';
  return `runtime (${frame.url || 'builtin'})`;
}

let session;
try {
  // Warm up (JIT, Wasm tier-up) outside the sampled window.
  await run(scenario);
  session = await inspect();
  await session.send('Profiler.enable');
  await session.send('Profiler.setSamplingInterval', { interval: 100 });
  await session.send('Profiler.start');
  const out = await run(scenario);
  const { profile } = await session.send('Profiler.stop');
  for (const line of out.trim().split('\n').filter((l) => !l.startsWith('JSON '))) console.log(line);

  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const dt = profile.timeDeltas[i + 1] ?? 0;
    self.set(node, (self.get(node) ?? 0) + dt);
  }
  const perFunction = new Map();
  const perKind = new Map();
  let busy = 0;
  for (const [node, us] of self) {
    const k = kind(node.callFrame);
    const where = node.callFrame.url ? ` ${path.basename(node.callFrame.url)}:${node.callFrame.lineNumber}` : '';
    const name = `${node.callFrame.functionName || '(anonymous)'}  [${k}${process.env.PROFILE_URLS ? where : ''}]`;
    perFunction.set(name, (perFunction.get(name) ?? 0) + us);
    perKind.set(k, (perKind.get(k) ?? 0) + us);
    if (k !== 'idle') busy += us;
  }
  const ms = (us) => (us / 1000).toFixed(1).padStart(8);
  const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  console.log(`\nbusy (not idle) isolate time: ${ms(busy)} ms\n\nself time by kind:`);
  for (const [k, us] of [...perKind].sort((a, b) => b[1] - a[1])) {
    if (k !== 'idle') console.log(`${ms(us)} ms ${pct(us)}  ${k}`);
  }
  if (process.env.PROFILE_PARENTS) {
    // Which callers the runtime's anonymous builtins run under.
    const parent = new Map();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
    const callers = new Map();
    for (const [node, us] of self) {
      if (node.callFrame.functionName || node.callFrame.url) continue;
      const chain = [];
      for (let p = parent.get(node.id); p && chain.length < 4; p = parent.get(p.id)) {
        chain.push(p.callFrame.functionName || '(anonymous)');
      }
      const key = chain.join(' < ');
      callers.set(key, (callers.get(key) ?? 0) + us);
    }
    console.log('\nanonymous builtins by caller chain:');
    for (const [k, us] of [...callers].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`${ms(us)} ms  ${k}`);
  }
  console.log('\ntop functions by self time:');
  for (const [name, us] of [...perFunction].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    if (!name.includes('[idle]')) console.log(`${ms(us)} ms ${pct(us)}  ${name}`);
  }
} finally {
  session?.close();
  await stop();
}
