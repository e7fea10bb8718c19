// An automated accessibility audit (axe-core from npm) of the landing, publisher and viewer
// views, at desktop and phone sizes: no violation of serious or critical impact.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startServer } from '../support/server.mjs';
import { launchBrowser, openPage, waitForMedia, waitForStatus } from '../support/browser.mjs';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The serious and critical violations axe finds on the page as it is now. */
async function audit(page) {
  await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

for (const [size, viewport] of Object.entries(SIZES)) {
  test(`no serious or critical accessibility violations on the three views (${size})`, async () => {
    const path = `/browser/a11y-${size}`;
    const landing = await openPage(browser, server, '', viewport);
    const waiting = await openPage(browser, server, `?subscribe=${path}&ice=none`, viewport);
    let publisher;
    let viewer;
    try {
      assert.deepEqual(await audit(landing), [], 'landing');
      await waiting.waitForFunction(() => document.body.dataset.stage === 'waiting-for-publisher');
      assert.deepEqual(await audit(waiting), [], 'viewer waiting for the publisher');
      publisher = await openPage(browser, server, `?publish=${path}&ice=none`, viewport);
      await waitForStatus(publisher, 'live');
      viewer = await openPage(browser, server, `?subscribe=${path}&ice=none`, viewport);
      await waitForMedia(viewer);
      await publisher.waitForFunction(() => document.querySelector('#share-qr svg'));
      assert.deepEqual(await audit(publisher), [], 'publisher');
      assert.deepEqual(await audit(viewer), [], 'viewer');
    } finally {
      for (const page of [landing, waiting, publisher, viewer]) await page?.context().close();
    }
  });
}
