// Debian's Chromium driven by playwright-core, with the flags that make real WebRTC work over
// loopback in a headless machine (see shared/TOOLCHAIN.md).
import { chromium } from 'playwright-core';
import { afterEach } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { BROWSER_FLAGS } from './chromium-flags.mjs';

// The flags live apart so scripts (scripts/screenshots) can use them without node:test.
export { BROWSER_FLAGS };

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: BROWSER_FLAGS,
    headless: true,
  });
}

/** Opens the app at `query` (e.g. `?subscribe=/x&ice=none`) in a fresh context. */
export async function openPage(browser, server, query, viewport) {
  const context = await browser.newContext({ viewport: viewport ?? { width: 1024, height: 720 } });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  watchForFailure(page);
  await page.goto(new URL(`/${query}`, server.url).toString());
  return page;
}

/** Waits until the page's status (body[data-status]) is `status`. */
export function waitForStatus(page, status, timeout = 15_000) {
  return page.waitForFunction((s) => document.body.dataset.status === s, status, { timeout });
}

/** Inbound audio and video bytes of the subscriber's first peer connection. */
export function inboundBytes(page) {
  return page.evaluate(async () => {
    const [peer] = window.namedStreams.mesh.peers.values();
    if (!peer) return { audio: 0, video: 0 };
    const stats = await peer.pc.getStats();
    const bytes = { audio: 0, video: 0 };
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp') bytes[s.kind] += s.bytesReceived;
    });
    return bytes;
  });
}

/**
 * Resolves with the subscriber page's inbound bytes once both audio and video have grown past
 * `than`, and at least `atLeastMs` of the page's clock has passed; rejects after `timeout` ms.
 * The check runs in the page: Playwright's waitForFunction takes a predicate's Promise for a
 * truthy answer, so an async check (getStats) there would pass at once.
 * @param {import('playwright-core').Page} page
 * @param {{ audio: number, video: number }} than
 */
export function mediaGrows(page, than, { atLeastMs = 0, timeout = 20_000 } = {}) {
  return page.evaluate(
    async ({ than, atLeastMs, timeout }) => {
      const start = performance.now();
      for (;;) {
        const [peer] = window.namedStreams.mesh.peers.values();
        const now = { audio: 0, video: 0 };
        if (peer) {
          (await peer.pc.getStats()).forEach((s) => {
            if (s.type === 'inbound-rtp') now[s.kind] += s.bytesReceived;
          });
        }
        const elapsed = performance.now() - start;
        if (elapsed >= atLeastMs && now.audio > than.audio && now.video > than.video) return now;
        if (elapsed > timeout) throw new Error(`media did not grow past ${JSON.stringify(than)} in ${timeout} ms: ${JSON.stringify(now)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    { than, atLeastMs, timeout },
  );
}

/** Asserts-by-waiting that a subscriber page is live: connected, video playing, media flowing. */
export async function waitForMedia(page, timeout = 20_000) {
  await page.waitForFunction(
    () => {
      const [peer] = window.namedStreams.mesh?.peers.values() ?? [];
      const video = document.getElementById('remote');
      return peer?.pc.connectionState === 'connected' && video.videoWidth > 0 && !video.paused;
    },
    null,
    { timeout },
  );
  // Bytes must grow over two seconds of the page's own clock.
  await mediaGrows(page, await inboundBytes(page), { atLeastMs: 2000, timeout });
}

// When a test fails, every page it opened with openPage leaves a screenshot and its console in
// test-results/browser/<file>/<test>/ (TEST_RESULTS_DIR moves it): a failed wait alone rarely
// says why. The folder of a test that passes is removed, so what is there is from the last run.
export const RESULTS_DIR = process.env.TEST_RESULTS_DIR ?? path.resolve(import.meta.dirname, '../../test-results/browser');

/** The pages of the running test: `{ page, url, console: string[], shot?: Buffer }`. */
const watched = [];

function watchForFailure(page) {
  const record = { page, url: '', console: [], shot: undefined };
  watched.push(record);
  const note = (line) => record.console.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
  page.on('console', (msg) => note(`${msg.type()}: ${msg.text()}`));
  page.on('pageerror', (err) => note(`uncaught: ${err.stack ?? err.message}`));
  page.on('crash', () => note('the page crashed'));
  page.on('load', () => (record.url = page.url()));
  // Tests close their pages in `finally`, before anyone knows whether the test failed: keep
  // what each page showed last, just before its context closes.
  const context = page.context();
  const closeContext = context.close.bind(context);
  context.close = async (...args) => {
    await snapshot(record);
    return closeContext(...args);
  };
}

async function snapshot(record) {
  if (record.page.isClosed()) return;
  record.url = record.page.url();
  record.shot = await record.page.screenshot({ timeout: 2000 }).catch(() => record.shot);
}

const slug = (name) => name.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80) || 'test';

afterEach(async (t) => {
  const records = watched.splice(0);
  const file = path.basename(process.argv[1] ?? 'browser', '.mjs').replace(/\.test$/, '');
  const dir = path.join(RESULTS_DIR, file, slug(t.name));
  fs.rmSync(dir, { recursive: true, force: true });
  if (t.passed) return;
  fs.mkdirSync(dir, { recursive: true });
  const error = t.error?.cause ?? t.error;
  fs.writeFileSync(path.join(dir, 'error.txt'), `${error?.stack ?? error}\n`);
  for (const [i, record] of records.entries()) {
    await snapshot(record);
    const name = path.join(dir, `page-${i + 1}`);
    if (record.shot) fs.writeFileSync(`${name}.png`, record.shot);
    fs.writeFileSync(`${name}.console.txt`, [`url: ${record.url}`, ...record.console, ''].join('\n'));
  }
  console.error(`failed: ${records.length} page(s) saved in ${path.relative(process.cwd(), dir)}`);
});
