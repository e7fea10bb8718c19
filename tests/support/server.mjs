// Starts the built Worker in the real local runtime (workerd, through Miniflare's API) on a
// random loopback port, and collects what the Worker logs so tests can see wake-ups.
import { Miniflare } from 'miniflare';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import readline from 'node:readline';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * `persist` names a folder for the Durable Objects' storage, so a test can stop the runtime and
 * start a new one on the same state (a restart, as a deploy does). `ratelimits` declares Workers
 * Rate Limiting bindings (as `[[ratelimits]]` in wrangler.toml does); none by default.
 * @param {{ bindings?: Record<string, string>, scriptPath?: string, inspectorPort?: number, persist?: string, port?: number, ratelimits?: Record<string, { simple: { limit: number, period: number } }> }} [options]
 * @returns {Promise<{ url: URL, wsBase: string, logs: string[], waitForLog: (re: RegExp, ms?: number) => Promise<string>, nextLog: (re: RegExp, ms?: number) => Promise<string>, stop: () => Promise<void> }>}
 */
export async function startServer(options = {}) {
  const logs = [];
  const waiters = new Set();
  const collect = (stream) => {
    readline.createInterface({ input: stream }).on('line', (line) => {
      logs.push(line);
      for (const w of waiters) w(line);
    });
  };
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: options.port ?? 0,
    modules: true,
    scriptPath: options.scriptPath ?? path.join(root, 'build/index.js'),
    ...(options.inspectorPort ? { inspectorPort: options.inspectorPort } : {}),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-04-20',
    // SQLite-backed, as wrangler.toml's migration declares: resume keeps members there.
    durableObjects: { STREAMS: { className: 'StreamObject', useSQLite: true } },
    ...(options.persist ? { durableObjectsPersist: options.persist } : {}),
    assets: { directory: path.join(root, 'public'), routerConfig: { has_user_worker: true } },
    bindings: options.bindings ?? {},
    ...(options.ratelimits ? { ratelimits: options.ratelimits } : {}),
    cf: false,
    handleRuntimeStdio: (stdout, stderr) => {
      collect(stdout);
      collect(stderr);
    },
  });
  const url = await mf.ready;
  return {
    url,
    wsBase: `ws://${url.host}`,
    logs,
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
