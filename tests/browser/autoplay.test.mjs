// When the browser blocks autoplay with sound, the subscriber page offers a Play button that
// starts the video. Chromium here is told to require a user gesture, as phones often do.
import { test, before, after } from 'node:test';
import { chromium } from 'playwright-core';
import { startServer } from '../support/server.mjs';
import { BROWSER_FLAGS, openPage, waitForStatus } from '../support/browser.mjs';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [...BROWSER_FLAGS.filter((f) => !f.startsWith('--autoplay-policy')), '--autoplay-policy=user-gesture-required'],
  });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a blocked autoplay shows Play, and Play starts the video', async () => {
  const path = '/browser/autoplay';
  const publisher = await openPage(browser, server, `?publish=${path}&ice=none`);
  const subscriber = await openPage(browser, server, `?subscribe=${path}&ice=none`);
  try {
    await waitForStatus(subscriber, 'live');
    await subscriber.waitForSelector('#play:not([hidden])');
    await subscriber.click('#play');
    await subscriber.waitForFunction(() => {
      const video = document.getElementById('remote');
      return !video.paused && video.videoWidth > 0;
    });
  } finally {
    await publisher.context().close();
    await subscriber.context().close();
  }
});
