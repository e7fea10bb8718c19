// Starts the Realtime SFU stand-in (tests/support/realtime-standin/) as a child process for a
// test file, and gives the settings that point the Worker at it. Its own process: werift's
// media relay then never competes with the test's event loop.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';

const SERVER = path.resolve(import.meta.dirname, 'realtime-standin/server.mjs');

/**
 * @returns {Promise<{ base: string, port: number, appId: string, appSecret: string, bindings: Record<string, string>, logs: string[], violations: () => Promise<Violation[]>, stats: () => Promise<any>, stop: () => Promise<void> }>}
 *   `bindings` are the Worker variables for startServer (REALTIME_API_BASE, REALTIME_APP_ID,
 *   REALTIME_APP_SECRET); add SFU_MODE and the rest.
 */
export async function startStandin({ appId = 'standin-app', appSecret = crypto.randomBytes(24).toString('hex') } = {}) {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, STANDIN_APP_ID: appId, STANDIN_APP_SECRET: appSecret, STANDIN_PORT: '0' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const logs = [];
  readline.createInterface({ input: child.stderr }).on('line', (line) => {
    logs.push(line);
    if (process.env.STANDIN_DEBUG) console.error(line);
  });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stand-in did not start: ${logs.join('\n')}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`the stand-in exited (${code}): ${logs.join('\n')}`)));
    readline.createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line).port);
    });
  });
  const origin = `http://127.0.0.1:${port}`;
  const get = async (route) => (await fetch(`${origin}${route}`)).json();
  const base = `${origin}/v1`;
  return {
    base,
    port,
    appId,
    appSecret,
    bindings: { REALTIME_API_BASE: base, REALTIME_APP_ID: appId, REALTIME_APP_SECRET: appSecret },
    logs,
    /** Every request that broke the documented API so far. */
    violations: () => get('/_standin/violations'),
    /** `{ requests, sessions: [{ sessionId, connectionState, tracks: [{ location, mid, trackName, kind, packets, bytes }] }] }` */
    stats: () => get('/_standin/stats'),
    stop: () =>
      new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          // Its pipes too: an open one would keep the test process alive.
          for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.destroy();
          resolve();
        };
        // A stuck close must not hold the test run: it is killed outright after 5 s.
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}

/** @typedef {{ method: string, path: string, problems: string[] }} Violation */
