// Debian's Chromium driven by playwright-core, with the flags that make real WebRTC work over
// loopback in a headless machine (see shared/TOOLCHAIN.md).
import { chromium } from 'playwright-core';

export const BROWSER_FLAGS = [
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  // Required where the host has only `lo`: otherwise no candidates are gathered.
  '--allow-loopback-in-peer-connection',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  // Pages here are never clicked; the play button for blocked autoplay has its own test.
  '--autoplay-policy=no-user-gesture-required',
];

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
