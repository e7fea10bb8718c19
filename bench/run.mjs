// Runs every benchmark scenario against our Worker and the plain-JavaScript reference, in the
// same local runtime (workerd through Miniflare), round after round, and prints the medians
// side by side. Called by bench/run, which builds what this needs.
//
//   node bench/run.mjs          the table: fan-out, latency, throughput (both), resume (ours)
//   node bench/run.mjs scale    fan-out from 100 to 10,000 subscribers (BENCH_SCALE_N), both
//                               sides; prints the table and writes the curve to BENCH_PLOT
//                               (default docs/bench-scale.svg)
import { Miniflare } from 'miniflare';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../tests/support/server.mjs';
import { LIMITS_OFF } from './limits.mjs';
import { scalePlot } from './plot.mjs';

// Linux's clock ticks per second, the unit of CPU times in /proc/<pid>/stat.
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    return 100;
  }
})();
const here = path.dirname(fileURLToPath(import.meta.url));
const client = path.join(here, 'target/release/named-streams-bench');
const mode = process.argv[2] ?? 'table';
if (!['table', 'scale'].includes(mode)) {
  console.error('usage: bench/run [scale]');
  process.exit(2);
}
const scale = mode === 'scale';
const rounds = Number(process.env.BENCH_ROUNDS ?? (scale ? 1 : 3));
const fanouts = (process.env.BENCH_FANOUT ?? '100,1000').split(',').map(Number);
const scaleNs = (process.env.BENCH_SCALE_N ?? '100,300,1000,3000,10000').split(',').map(Number);
const resumeN = Number(process.env.BENCH_RESUME ?? 500);
const plotFile = path.resolve(process.env.BENCH_PLOT ?? path.join(here, '../docs/bench-scale.svg'));

// BENCH_OURS_VARS (JSON) adds vars to ours, e.g. '{"RESUME_GRACE_SECONDS":"0"}' to see what
// resume's storage costs a connection.
const extraVars = JSON.parse(process.env.BENCH_OURS_VARS ?? '{}');
const withAssets = process.env.BENCH_ASSETS !== '0';
// BENCH_OURS_SCRIPT runs another build of ours (an experiment) in place of build/index.js.
const runtimesBefore = workerdPids();
const ours = await startServer({
  bindings: { ...LIMITS_OFF, ...extraVars },
  ...(process.env.BENCH_OURS_SCRIPT ? { scriptPath: path.resolve(process.env.BENCH_OURS_SCRIPT) } : {}),
  ...(withAssets ? {} : { assets: false }),
});
const ourRuntimes = workerdPids();
const jsMf = new Miniflare({
  host: '127.0.0.1',
  port: 0,
  modules: true,
  scriptPath: path.join(here, 'js-reference/worker.js'),
  compatibilityDate: '2026-04-20',
  durableObjects: { STREAMS: 'Stream' },
  // The same static assets in front, as ours has: locally the runtime routes every request
  // through its asset router (JavaScript workers in the same process) before the Worker, about
  // 0.4-0.6 ms of CPU per connection that production does outside the Worker. Without it here the
  // table would compare two topologies. BENCH_ASSETS=0 takes it away from both sides.
  ...(withAssets
    ? { assets: { directory: path.join(here, '../public'), routerConfig: { has_user_worker: true } } }
    : {}),
  cf: false,
});
const jsUrl = await jsMf.ready;
// Each side runs in a workerd process of its own: the CPU time it spends on a scenario, per
// connection, is the figure that load on the machine disturbs least (wall-clock rates wait on
// whatever else runs).
const oursPids = [...ourRuntimes].filter((p) => !runtimesBefore.has(p));
const jsPids = [...workerdPids()].filter((p) => !runtimesBefore.has(p) && !oursPids.includes(p));
const runtimePids = { ours: oursPids, js: jsPids };
const targets = [
  ['ours', ours.wsBase],
  ['js', `ws://${jsUrl.host}`],
];

/** The workerd processes descended from this one (Linux: read from /proc). */
function workerdPids() {
  const parent = (pid) => {
    try {
      return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    } catch {
      return 0;
    }
  };
  const found = new Set();
  let entries = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return found;
  }
  for (const e of entries) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmd.includes('workerd')) continue;
    for (let p = Number(e); p > 1; p = parent(p)) {
      if (p === process.pid) {
        found.add(Number(e));
        break;
      }
    }
  }
  return found;
}

/** CPU time (ms, user + system) the processes have used so far; NaN where /proc is missing. */
function cpuMs(pids) {
  if (pids.length === 0) return NaN;
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return NaN;
    }
  }
  return ticks * (1000 / CLOCK_TICKS);
}

/**
 * Waits until both runtimes are idle: the previous scenario's clients leave when it ends (500
 * departures after a resume, 1,000 after a fan-out), and that work, done after its figures were
 * taken, must not land in the next scenario's CPU time and compete for its cores. Idle is at
 * most one clock tick of CPU in 300 ms, twice running; gives up after 10 s.
 */
async function settle() {
  const pids = [...runtimePids.ours, ...runtimePids.js];
  const tickMs = 1000 / CLOCK_TICKS;
  const deadline = Date.now() + 10_000;
  let quiet = 0;
  let last = cpuMs(pids);
  while (quiet < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = cpuMs(pids);
    quiet = now - last <= tickMs ? quiet + 1 : 0;
    last = now;
  }
}

async function bench(base, label, args) {
  await settle();
  const before = cpuMs(runtimePids[label]);
  const figures = await runClient(base, label, args);
  figures.cpu_ms = cpuMs(runtimePids[label]) - before;
  if (figures.n) figures.cpu_ms_each = figures.cpu_ms / figures.n;
  return figures;
}

function runClient(base, label, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(client, [base, label, ...args.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      const lines = out.trim().split('\n');
      for (const line of lines.filter((l) => !l.startsWith('JSON '))) console.log(`  ${line}`);
      const json = lines.find((l) => l.startsWith('JSON '));
      if (code !== 0 || !json) reject(new Error(`${label} ${args.join(' ')} failed (exit ${code})`));
      else resolve(JSON.parse(json.slice(5)));
    });
  });
}

// [scenario args, which targets]: the reference has no resume.
const scenarios = scale
  ? scaleNs.map((n) => [['fanout', n], ['ours', 'js']])
  : [
      ...fanouts.map((n) => [['fanout', n], ['ours', 'js']]),
      [['latency', 1000], ['ours', 'js']],
      [['throughput', 10, 20000, 100], ['ours', 'js']],
      ...(resumeN > 0 ? [[['resume', resumeN], ['ours']]] : []),
    ];
// BENCH_ONLY=fanout,resume keeps the scenarios so named (a quick look while working).
const only = process.env.BENCH_ONLY?.split(',');
if (only) scenarios.splice(0, scenarios.length, ...scenarios.filter(([[name]]) => only.includes(name)));
/** results[label][scenario] = [figures of each round] */
const results = { ours: {}, js: {} };
const load = [os.loadavg()[0]];
try {
  // A production isolate is warm: compile and start each side (its Wasm, its settings) before
  // anything is timed, or the first scenario of the first round measures a cold start.
  for (const [label, base] of targets) await bench(base, label, ['fanout', 10]);
  for (let round = 1; round <= rounds; round++) {
    console.log(`round ${round}/${rounds} (load average ${os.loadavg()[0].toFixed(1)})`);
    // Alternate who goes first, so neither always runs on a warmer machine.
    const order = round % 2 ? targets : [...targets].reverse();
    for (const [args, who] of scenarios) {
      for (const [label, base] of order.filter(([label]) => who.includes(label))) {
        try {
          const figures = await bench(base, label, args);
          (results[label][figures.scenario] ??= []).push(figures);
        } catch (e) {
          // The scale mode plots what it measured; the table fails whole.
          if (!scale) throw e;
          console.log(`  ${e.message}: left out`);
        }
      }
    }
    load.push(os.loadavg()[0]);
  }
} finally {
  await ours.stop();
  await jsMf.dispose();
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fanoutRows = (n) =>
  [
    ['join_ms', `fan-out ${n}: join announced (ms)`],
    ['leave_ms', `fan-out ${n}: leave announced (ms)`],
    ['connections_per_s', `fan-out ${n}: connections/s`],
    ['cpu_ms_each', `fan-out ${n}: runtime CPU per subscriber (ms)`],
  ].map(([key, name]) => [name, `fanout-${n}`, key, key !== 'connections_per_s']);
const rows = [];
if (scale) {
  for (const n of scaleNs) {
    rows.push(...fanoutRows(n));
    rows.push([`fan-out ${n}: join per subscriber (µs)`, `fanout-${n}`, 'join_us_each', true]);
  }
} else {
  for (const n of fanouts) rows.push(...fanoutRows(n));
  rows.push(['latency p50 (ms)', 'latency', 'p50_ms', true]);
  rows.push(['latency p90 (ms)', 'latency', 'p90_ms', true]);
  rows.push(['latency p99 (ms)', 'latency', 'p99_ms', true]);
  rows.push(['latency max (ms)', 'latency', 'max_ms', true]);
  rows.push(['relay throughput (msg/s)', 'throughput', 'msgs_per_s', false]);
  rows.push(['lost + duplicated + misrouted', 'throughput', 'faults', true]);
  rows.push(['latency: runtime CPU per round trip (ms)', 'latency', 'cpu_ms_each', true]);
  rows.push(['throughput: runtime CPU per 1,000 messages (ms)', 'throughput', 'cpu_ms_per_1000', true]);
  rows.push([`resume ${resumeN}: resumes/s`, 'resume', 'resumes_per_s', false]);
  rows.push([`resume ${resumeN}: reconnect to first queued frame p50 (ms)`, 'resume', 'first_frame_p50_ms', true]);
  rows.push([`resume ${resumeN}: reconnect to first queued frame p90 (ms)`, 'resume', 'first_frame_p90_ms', true]);
  rows.push([`resume ${resumeN}: runtime CPU per member: join, drop, resume (ms)`, 'resume', 'cpu_ms_each', true]);
}
for (const figures of [...(results.ours.throughput ?? []), ...(results.js.throughput ?? [])]) {
  figures.faults = figures.lost + figures.duplicated + figures.misrouted;
  figures.cpu_ms_per_1000 = (1000 * figures.cpu_ms) / figures.messages;
}
for (const figures of [...(results.ours.latency ?? []), ...(results.js.latency ?? [])]) {
  figures.cpu_ms_each = figures.cpu_ms / figures.rounds;
}
for (const label of ['ours', 'js']) {
  for (const [scenario, list] of Object.entries(results[label])) {
    if (scenario.startsWith('fanout-')) for (const f of list) f.join_us_each = (1000 * f.join_ms) / f.n;
  }
}

const fmt = (x) => (Number.isNaN(x) ? '–' : x >= 100 ? x.toFixed(0) : x.toFixed(2));
const table = [
  `| medians of ${rounds} round${rounds > 1 ? 's' : ''} | ours (Rust/Wasm) | JS reference | ours / JS |`,
  '| --- | ---: | ---: | ---: |',
];
for (const [name, scenario, key, lowerIsBetter] of rows) {
  const a = median((results.ours[scenario] ?? []).map((f) => f[key]));
  const b = median((results.js[scenario] ?? []).map((f) => f[key]));
  if (Number.isNaN(a) && Number.isNaN(b)) continue; // not run (BENCH_ONLY)
  const ratio = Number.isNaN(b) ? '–' : b === 0 ? (a === 0 ? '–' : '∞') : `${(a / b).toFixed(2)}×`;
  table.push(`| ${name}${lowerIsBetter ? ' ↓' : ' ↑'} | ${fmt(a)} | ${fmt(b)} | ${ratio} |`);
}
console.log(`\n${table.join('\n')}\n(↓ lower is better, ↑ higher is better; resume: the reference has none)`);
console.log(`load average (1 min) at start and after each round: ${load.map((l) => l.toFixed(1)).join(', ')}`);
if (scale) {
  const curve = (label, key) => scaleNs.map((n) => [n, median((results[label][`fanout-${n}`] ?? []).map((f) => f[key]))]);
  writeFileSync(
    plotFile,
    scalePlot({
      title: `Fan-out from ${scaleNs[0].toLocaleString('en-US')} to ${scaleNs.at(-1).toLocaleString('en-US')} subscribers (medians of ${rounds}; load average ${Math.min(...load).toFixed(1)} to ${Math.max(...load).toFixed(1)} on ${os.cpus().length} cores)`,
      panels: [
        {
          title: 'publisher join: time per subscriber announced (µs) ↓',
          ours: curve('ours', 'join_us_each'),
          js: curve('js', 'join_us_each'),
        },
        {
          title: 'connections per second while subscribers join ↑',
          ours: curve('ours', 'connections_per_s'),
          js: curve('js', 'connections_per_s'),
        },
      ],
    }),
  );
  console.log(`plot written to ${path.relative(process.cwd(), plotFile)}`);
}
console.log(`JSON ${JSON.stringify({ mode, rounds, load, results })}`);
