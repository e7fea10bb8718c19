// Starts the built Worker in the real local runtime (workerd, through Miniflare's API) on a
// random loopback port, and collects what the Worker logs so tests can see wake-ups. The Worker
// logs one JSON object per line; `metrics: true` gives it a METRICS binding that records every
// Analytics Engine data point it writes (Miniflare's own local dataset drops them).
import { Miniflare } from 'miniflare';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import readline from 'node:readline';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * `persist` names a folder for the Durable Objects' storage, so a test can stop the runtime and
 * start a new one on the same state (a restart, as a deploy does). `ratelimits` declares Workers
 * Rate Limiting bindings (as `[[ratelimits]]` in wrangler.toml does); none by default.
 * `metrics` adds the METRICS binding; its data points arrive in `points`, in the order written.
 * `assets: false` leaves out the static assets in front of the Worker (the benchmark's look at
 * what the local asset router costs).
 * @param {{ bindings?: Record<string, string>, scriptPath?: string, assets?: boolean, inspectorPort?: number, persist?: string, port?: number, ratelimits?: Record<string, { simple: { limit: number, period: number } }>, metrics?: boolean }} [options]
 * @returns {Promise<{ url: URL, wsBase: string, logs: string[], points: DataPoint[], events: (name: string) => any[], waitForLog: (re: RegExp, ms?: number) => Promise<string>, nextLog: (re: RegExp, ms?: number) => Promise<string>, waitForEvent: (name: string, match?: (e: any) => boolean, ms?: number) => Promise<any>, waitForPoints: (n: number, ms?: number) => Promise<DataPoint[]>, stop: () => Promise<void> }>}
 */
export async function startServer(options = {}) {
  const logs = [];
  /** @type {DataPoint[]} */
  const points = [];
  const waiters = new Set();
  const collect = (stream) => {
    readline.createInterface({ input: stream }).on('line', (line) => {
      const point = recordedPoint(line);
      if (point) points.push(point);
      else logs.push(line);
      for (const w of waiters) w(line);
    });
  };
  const main = {
    modules: true,
    scriptPath: options.scriptPath ?? path.join(root, 'build/index.js'),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-04-20',
    // SQLite-backed, as wrangler.toml's migration declares: resume keeps members there.
    durableObjects: {
      STREAMS: { className: 'StreamObject', useSQLite: true },
      ROOMS: { className: 'RoomObject', useSQLite: true },
    },
    ...(options.assets === false
      ? {}
      : {
          assets: {
            directory: path.join(root, 'public'),
            routerConfig: { has_user_worker: true },
          },
        }),
    bindings: options.bindings ?? {},
    ...(options.ratelimits ? { ratelimits: options.ratelimits } : {}),
  };
  const shared = {
    host: '127.0.0.1',
    port: options.port ?? 0,
    ...(options.inspectorPort ? { inspectorPort: options.inspectorPort } : {}),
    ...(options.persist ? { durableObjectsPersist: options.persist } : {}),
    cf: false,
    handleRuntimeStdio: (stdout, stderr) => {
      collect(stdout);
      collect(stderr);
    },
  };
  const mf = new Miniflare(
    options.metrics
      ? {
          ...shared,
          workers: [
            { ...main, wrappedBindings: { METRICS: { scriptName: 'metrics-recorder' } } },
            { name: 'metrics-recorder', modules: true, script: RECORDER },
          ],
        }
      : { ...shared, ...main },
  );
  const url = await mf.ready;
  /** Every log line that is a JSON object with this `event`, parsed. */
  const events = (name) => logs.map(parseJson).filter((e) => e?.event === name);
  const waitFor = (check, what, ms) =>
    new Promise((resolve, reject) => {
      const found = check();
      if (found !== undefined) return resolve(found);
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`${what} within ${ms} ms`));
      }, ms);
      const w = () => {
        const hit = check();
        if (hit !== undefined) {
          clearTimeout(timer);
          waiters.delete(w);
          resolve(hit);
        }
      };
      waiters.add(w);
    });
  return {
    url,
    wsBase: `ws://${url.host}`,
    logs,
    points,
    events,
    /** Resolves with the first log event (already logged or future) named `name` that `match` accepts. */
    waitForEvent(name, match = () => true, ms = 30_000) {
      return waitFor(() => events(name).find(match), `no ${name} event matching ${match}`, ms);
    },
    /** Resolves with the first `n` data points once that many were written. */
    waitForPoints(n, ms = 30_000) {
      return waitFor(() => (points.length >= n ? points.slice(0, n) : undefined), `fewer than ${n} data points`, ms);
    },
    /** Resolves with the first log line (already seen or future) matching `re`. */
    waitForLog(re, ms = 30_000) {
      const seen = logs.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return this.nextLog(re, ms);
    },
    /** Resolves with the next log line from now on matching `re`. */
    nextLog(re, ms = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no log line matching ${re} within ${ms} ms`));
        }, ms);
        const check = (line) => {
          if (re.test(line)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(line);
          }
        };
        waiters.add(check);
      });
    },
    stop: () => mf.dispose(),
  };
}

/** @typedef {{ indexes: string[], blobs: string[], doubles: number[] }} DataPoint */

// The test's METRICS binding: a wrapped binding (it runs inside the Worker's isolate, like the
// real one) whose writeDataPoint prints the point as one marked JSON line for the collector.
const RECORDER = `export default function () {
  return { writeDataPoint(point) { console.log(JSON.stringify({ "test-data-point": point })); } };
}`;

function parseJson(line) {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function recordedPoint(line) {
  if (!line.startsWith('{"test-data-point"')) return undefined;
  return parseJson(line)?.['test-data-point'];
}
