// Runs every benchmark scenario against our Worker and the plain-JavaScript reference, in the
// same local runtime (workerd through Miniflare), round after round, and prints the medians
// side by side. Called by bench/run, which builds what this needs.
import { Miniflare } from 'miniflare';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../tests/support/server.mjs';
import { LIMITS_OFF } from './limits.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const client = path.join(here, 'target/release/named-streams-bench');
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const fanouts = (process.env.BENCH_FANOUT ?? '100,1000').split(',').map(Number);

const ours = await startServer({ bindings: LIMITS_OFF });
const jsMf = new Miniflare({
  host: '127.0.0.1',
  port: 0,
  modules: true,
  scriptPath: path.join(here, 'js-reference/worker.js'),
  compatibilityDate: '2026-04-20',
  durableObjects: { STREAMS: 'Stream' },
  cf: false,
});
const jsUrl = await jsMf.ready;
const targets = [
  ['ours', ours.wsBase],
  ['js', `ws://${jsUrl.host}`],
];

function bench(base, label, args) {
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

const scenarios = [
  ...fanouts.map((n) => ['fanout', n]),
  ['latency', 1000],
  ['throughput', 10, 20000, 100],
];
/** results[label][scenario] = [figures of each round] */
const results = { ours: {}, js: {} };
try {
  for (let round = 1; round <= rounds; round++) {
    console.log(`round ${round}/${rounds}`);
    // Alternate who goes first, so neither always runs on a warmer machine.
    const order = round % 2 ? targets : [...targets].reverse();
    for (const args of scenarios) {
      for (const [label, base] of order) {
        const figures = await bench(base, label, args);
        (results[label][figures.scenario] ??= []).push(figures);
      }
    }
  }
} finally {
  await ours.stop();
  await jsMf.dispose();
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows = [];
for (const n of fanouts) {
  for (const [key, name] of [
    ['join_ms', `fan-out ${n}: join announced (ms)`],
    ['leave_ms', `fan-out ${n}: leave announced (ms)`],
    ['connections_per_s', `fan-out ${n}: connections/s`],
  ]) {
    rows.push([name, `fanout-${n}`, key, key !== 'connections_per_s']);
  }
}
rows.push(['latency p50 (ms)', 'latency', 'p50_ms', true]);
rows.push(['latency p90 (ms)', 'latency', 'p90_ms', true]);
rows.push(['latency p99 (ms)', 'latency', 'p99_ms', true]);
rows.push(['latency max (ms)', 'latency', 'max_ms', true]);
rows.push(['relay throughput (msg/s)', 'throughput', 'msgs_per_s', false]);
rows.push(['lost + duplicated + misrouted', 'throughput', 'faults', true]);
for (const figures of [...(results.ours.throughput ?? []), ...(results.js.throughput ?? [])]) {
  figures.faults = figures.lost + figures.duplicated + figures.misrouted;
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
const table = [
  `| medians of ${rounds} rounds | ours (Rust/Wasm) | JS reference | ours / JS |`,
  '| --- | ---: | ---: | ---: |',
];
for (const [name, scenario, key, lowerIsBetter] of rows) {
  const a = median((results.ours[scenario] ?? []).map((f) => f[key]));
  const b = median((results.js[scenario] ?? []).map((f) => f[key]));
  const ratio = b === 0 ? (a === 0 ? '–' : '∞') : `${(a / b).toFixed(2)}×`;
  table.push(`| ${name}${lowerIsBetter ? ' ↓' : ' ↑'} | ${fmt(a)} | ${fmt(b)} | ${ratio} |`);
}
console.log(`\n${table.join('\n')}\n(↓ lower is better, ↑ higher is better)`);
console.log(`JSON ${JSON.stringify({ rounds, results })}`);
