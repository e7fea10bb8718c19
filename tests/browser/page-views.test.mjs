// The page's views (issue 14, item 3): the publisher's Copy button and QR code, a status line
// that agrees with the viewer count, the viewer's messages (waiting for the publisher, the
// publisher left, a second publisher refused), full screen from the keyboard, and every control
// reachable by keyboard with a visible focus.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { launchBrowser, openPage, waitForMedia, waitForStatus } from '../support/browser.mjs';

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

const text = (page, selector) => page.evaluate((s) => document.querySelector(s).textContent, selector);

test('the publisher copies the viewer link with one button, and shows it as a QR code', async () => {
  const page = await openPage(browser, server, `?publish=${encodeURIComponent('/sha256/browser/share')}&ice=none`);
  try {
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url.origin });
    await waitForStatus(page, 'live');
    await page.waitForFunction(() => document.getElementById('share-link').value.includes('subscribe='));
    const link = await page.inputValue('#share-link');
    assert.match(link, /\?subscribe=%2Fsha256%2F[0-9a-f]{64}$/);
    await page.click('#copy');
    await page.waitForFunction(() => document.getElementById('copy-status').dataset.copied === 'true');
    assert.equal(await text(page, '#copy-status'), 'Link copied.');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
    // The QR code: an SVG image with a label, as many modules as the library makes for the link.
    const qr = await page.evaluate(async (link) => {
      const { default: qrcode } = await import('/js/vendor/qrcode.js');
      const expected = qrcode(0, 'M');
      expected.addData(link);
      expected.make();
      const box = document.getElementById('share-qr');
      const svg = box.querySelector('svg');
      return {
        modules: Number(box.dataset.modules),
        expected: expected.getModuleCount(),
        role: svg.getAttribute('role'),
        label: svg.getAttribute('aria-label'),
        dark: (svg.querySelector('path').getAttribute('d').match(/M/g) ?? []).length,
        width: svg.getBoundingClientRect().width,
      };
    }, link);
    assert.equal(qr.modules, qr.expected);
    assert.equal(qr.role, 'img');
    assert.equal(qr.label, 'QR code of the viewer link');
    assert.ok(qr.dark > qr.modules * 3, 'dark modules are drawn');
    assert.ok(qr.width >= 100, `big enough to scan (${qr.width}px)`);
  } finally {
    await page.context().close();
  }
});

test("the publisher's status line agrees with its viewer count", async () => {
  const path = '/browser/count';
  const publisher = await openPage(browser, server, `?publish=${path}&ice=none`);
  try {
    await waitForStatus(publisher, 'live');
    assert.equal(await text(publisher, '#status'), 'Live: waiting for viewers');
    assert.equal(await text(publisher, '#publisher-count'), '0 viewers');
    const viewer = await openPage(browser, server, `?subscribe=${path}&ice=none`);
    await publisher.waitForFunction(() => document.body.dataset.viewers === '1');
    assert.equal(await text(publisher, '#publisher-count'), '1 viewer');
    assert.equal(await text(publisher, '#status'), 'Live: 1 viewer');
    await viewer.context().close();
    await publisher.waitForFunction(() => document.body.dataset.viewers === '0');
    assert.equal(await text(publisher, '#status'), 'Live: waiting for viewers');
  } finally {
    await publisher.context().close();
  }
});

test('a viewer is told it waits for the publisher, sees the stream, and is told when the publisher leaves', async () => {
  const path = '/browser/viewer-messages';
  const viewer = await openPage(browser, server, `?subscribe=${path}&ice=none`);
  try {
    await viewer.waitForFunction(() => document.body.dataset.stage === 'waiting-for-publisher' && document.body.dataset.stream === 'not-live');
    assert.equal(await text(viewer, '#stage-title'), 'Waiting for the publisher');
    assert.match(await text(viewer, '#stage-text'), /Nobody is publishing on this stream yet/);
    const publisher = await openPage(browser, server, `?publish=${path}&ice=none`);
    await waitForMedia(viewer);
    assert.equal(await viewer.evaluate(() => document.getElementById('stage-message').hidden), true);
    await publisher.context().close();
    await viewer.waitForFunction(() => document.body.dataset.stage === 'publisher-left');
    assert.equal(await text(viewer, '#stage-title'), 'The publisher left');
    assert.match(await text(viewer, '#stage-text'), /waits and shows the stream again when they come back/);
    assert.equal(await viewer.evaluate(() => document.getElementById('stage-message').hidden), false);
  } finally {
    await viewer.context().close();
  }
});

test('a second publisher is told someone already publishes, and what happens next', async () => {
  const path = '/browser/second-publisher';
  const first = await openPage(browser, server, `?publish=${path}&ice=none`);
  try {
    await waitForStatus(first, 'live');
    const second = await openPage(browser, server, `?publish=${path}&ice=none`);
    try {
      await second.waitForFunction(() => document.body.dataset.refusal === 'publisher-exists');
      assert.match(await text(second, '#status'), /^Someone is already publishing on this stream\. The page keeps trying and takes over when they stop/);
      // It takes over when the first one leaves.
      await first.context().close();
      await waitForStatus(second, 'live', 30_000);
    } finally {
      await second.context().close();
    }
  } finally {
    await first.context().close().catch(() => {});
  }
});

test('full screen from the keyboard, and back', async () => {
  const path = '/browser/fullscreen';
  const publisher = await openPage(browser, server, `?publish=${path}&ice=none`);
  const viewer = await openPage(browser, server, `?subscribe=${path}&ice=none`);
  try {
    await waitForMedia(viewer);
    await viewer.focus('#fullscreen');
    await viewer.keyboard.press('Enter');
    await viewer.waitForFunction(() => document.fullscreenElement?.id === 'viewer-stage');
    // The element changes first; the page relabels its button on `fullscreenchange`, which the
    // browser dispatches a frame later.
    await viewer.waitForFunction(() => document.querySelector('#fullscreen')?.getAttribute('aria-pressed') === 'true');
    assert.equal(await text(viewer, '#fullscreen'), 'Exit full screen');
    await viewer.keyboard.press('Enter');
    await viewer.waitForFunction(() => document.fullscreenElement === null);
    await viewer.waitForFunction(() => document.querySelector('#fullscreen')?.getAttribute('aria-pressed') === 'false');
    assert.equal(await text(viewer, '#fullscreen'), 'Full screen');
  } finally {
    await publisher.context().close();
    await viewer.context().close();
  }
});

/** Tabs through the page and returns each focused control with whether its focus shows. */
async function tabThrough(page, presses) {
  const seen = [];
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press('Tab');
    seen.push(
      await page.evaluate(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        const name = el.getAttribute('aria-label') ?? (el.labels?.[0]?.textContent ?? el.textContent).trim();
        return { id: el.id || el.tagName.toLowerCase(), visible: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2, name };
      }),
    );
  }
  return seen;
}

test('every control is reachable by keyboard, with a visible focus and a name', async () => {
  const landing = await openPage(browser, server, '');
  const path = '/browser/keyboard';
  const publisher = await openPage(browser, server, `?publish=${path}&ice=none`);
  const viewer = await openPage(browser, server, `?subscribe=${path}&ice=none`);
  const caller = await openPage(browser, server, `?call=${encodeURIComponent('/calls/keyboard')}&ice=none`);
  try {
    const landed = await tabThrough(landing, 8);
    for (const id of ['create', 'start-call', 'start-conference', 'join-path', 'check']) assert.ok(landed.some((f) => f.id === id), `${id} is reachable: ${JSON.stringify(landed)}`);
    await waitForStatus(publisher, 'live');
    const published = await tabThrough(publisher, 8);
    for (const id of ['mute', 'camera', 'screen', 'share-link', 'copy']) assert.ok(published.some((f) => f.id === id), `${id} is reachable: ${JSON.stringify(published)}`);
    await waitForMedia(viewer);
    const watched = await tabThrough(viewer, 4);
    for (const id of ['sound', 'fullscreen']) assert.ok(watched.some((f) => f.id === id), `${id} is reachable: ${JSON.stringify(watched)}`);
    // The call and conference view (one person waiting in a call shows all of its controls).
    await waitForStatus(caller, 'waiting');
    const called = await tabThrough(caller, 6);
    for (const id of ['room-mute', 'room-camera', 'room-leave', 'room-link']) assert.ok(called.some((f) => f.id === id), `${id} is reachable: ${JSON.stringify(called)}`);
    for (const focus of [...landed, ...published, ...watched, ...called].filter((f) => f.id !== 'body')) {
      assert.ok(focus.visible, `${focus.id} shows its focus`);
      if (focus.id !== 'a') assert.notEqual(focus.name, '', `${focus.id} has a name`);
    }
  } finally {
    for (const page of [landing, publisher, viewer, caller]) await page.context().close();
  }
});
