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
  const before = await inboundBytes(page);
  // Bytes must grow over two seconds of the page's own clock.
  await page.waitForFunction(
    async ({ audio, video }) => {
      const [peer] = window.namedStreams.mesh.peers.values();
      const stats = await peer.pc.getStats();
      const now = { audio: 0, video: 0 };
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp') now[s.kind] += s.bytesReceived;
      });
      window.__mediaCheckStart ??= performance.now();
      return performance.now() - window.__mediaCheckStart >= 2000 && now.audio > audio && now.video > video;
    },
    before,
    { timeout, polling: 250 },
  );
  await page.evaluate(() => delete window.__mediaCheckStart);
}
