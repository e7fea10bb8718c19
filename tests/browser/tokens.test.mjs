// The page on token-protected deployments (issue 18): the token in the page's link reaches the
// stream's WebSocket and nothing else, the viewer link carries a viewer token only when the
// publisher's link gave one, and refusals say what happened and what to do.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { launchBrowser, openPage, waitForStatus, waitForMedia } from '../support/browser.mjs';
import { mintToken } from '../../scripts/token.mjs';

const SECRET = 'browser-token-secret-0123456789abcdef';
const now = () => Math.floor(Date.now() / 1000);
const mint = (path, mode, exp = now() + 600) => mintToken({ secret: SECRET, path, mode, exp });

let server;
let hashOnly;
let browser;
before(async () => {
  // TOKEN_SECRET alone: tokens for both modes.
  server = await startServer({ bindings: { TOKEN_SECRET: SECRET } });
  hashOnly = await startServer({ bindings: { TOKEN_SECRET: SECRET, SUBSCRIBE_AUTH: 'hash-only' } });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await hashOnly?.stop();
});

let n = 0;
const q = (params) => `?${new URLSearchParams({ ...params, ice: 'none' })}`;

/** Records every request and WebSocket URL of a page, and every request header's value. */
function record(page) {
  const seen = { sockets: [], requests: [] };
  page.on('websocket', (ws) => seen.sockets.push(ws.url()));
  page.on('request', (r) => seen.requests.push({ url: r.url(), headers: Object.values(r.headers()).join('\n') }));
  return seen;
}

/** Opens a page and starts recording before its first request. */
async function openRecorded(srv, query) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const seen = record(page);
  await page.goto(new URL(`/${query}`, srv.url).toString());
  return { page, seen };
}

test('publisher and two viewers with tokens receive media; tokens go to the stream connection only', async () => {
  const path = `/tokens/live-${++n}`;
  const publishToken = mint(path, 'publish');
  const viewerToken = mint(path, 'subscribe');
  const pages = [];
  try {
    const pub = await openRecorded(server, q({ publish: path, token: publishToken, viewer_token: viewerToken }));
    pages.push(pub.page);
    await waitForStatus(pub.page, 'live');
    const share = new URL(await pub.page.inputValue('#share-link'));
    assert.equal(share.searchParams.get('subscribe'), path);
    assert.equal(share.searchParams.get('token'), viewerToken);
    assert.doesNotMatch(share.toString(), new RegExp(publishToken));
    assert.doesNotMatch(await pub.page.content(), new RegExp(publishToken), 'the publish token is shown on the page');

    const viewers = [];
    for (let i = 0; i < 2; i++) {
      const viewer = await openRecorded(server, `${share.search}&ice=none`);
      pages.push(viewer.page);
      viewers.push(viewer);
    }
    for (const { page } of viewers) await waitForMedia(page);

    for (const [{ seen }, token] of [[pub, publishToken], ...viewers.map((v) => [v, viewerToken])]) {
      assert.equal(seen.sockets.length, 1);
      assert.equal(new URL(seen.sockets[0]).searchParams.get('token'), token);
      for (const r of seen.requests.slice(1)) {
        // The page's own document is the only request whose URL may hold it (it came in that way).
        assert.ok(!r.url.includes(token) && !r.headers.includes(token), `token sent with ${r.url}`);
      }
    }
  } finally {
    await Promise.all(pages.map((p) => p.context().close()));
  }
});

test('without a viewer token the viewer link carries no token', async () => {
  const path = `/tokens/plain-${++n}`;
  const publishToken = mint(path, 'publish');
  const page = await openPage(browser, server, q({ publish: path, token: publishToken }));
  try {
    await waitForStatus(page, 'live');
    const share = new URL(await page.inputValue('#share-link'));
    assert.equal(share.searchParams.get('subscribe'), path);
    assert.equal(share.searchParams.has('token'), false);
    const links = await page.$$eval('a', (as) => as.map((a) => a.href));
    assert.ok(links.length >= 2);
    for (const link of links) {
      assert.equal(new URL(link).searchParams.has('token'), false, link);
      assert.ok(!link.includes(publishToken), link);
    }
  } finally {
    await page.context().close();
  }
});

test('a viewer without a token, and one with an expired token, are told why and what to do', async () => {
  const path = `/tokens/refused-${++n}`;
  const cases = [
    { query: q({ subscribe: path }), code: 'token-missing', title: /needs a token/i },
    { query: q({ subscribe: path, token: mint(path, 'subscribe', now() - 5) }), code: 'token-expired', title: /expired/i },
    { query: q({ subscribe: path, token: mint(path, 'publish') }), code: 'token-wrong-mode', title: /does not allow/i },
    { query: q({ publish: path }), code: 'token-missing', title: /needs a token/i },
  ];
  for (const { query, code, title } of cases) {
    const page = await openPage(browser, server, query);
    try {
      await waitForStatus(page, 'refused');
      assert.equal(await page.getAttribute('body', 'data-refusal'), code);
      assert.ok(await page.locator('#problem').isVisible());
      assert.match(await page.locator('#problem-title').innerText(), title);
      // The server's own sentence, then advice.
      assert.ok((await page.locator('#problem-text').innerText()).length > 10);
      assert.match(await page.locator('#problem-advice').innerText(), /ask/i);
      // A refusal retrying cannot fix is not retried.
      assert.equal(await page.evaluate(() => window.namedStreams.client.ws.readyState), 3);
    } finally {
      await page.context().close();
    }
  }
});

test('hash-only subscribers: the private-link flow needs no viewer token', async () => {
  const path = `/sha256/tokens/private-${++n}`;
  const pages = [];
  try {
    const publisher = await openPage(browser, hashOnly, q({ publish: path, token: mint(path, 'publish') }));
    pages.push(publisher);
    await waitForStatus(publisher, 'live');
    const share = new URL(await publisher.inputValue('#share-link'));
    assert.match(share.searchParams.get('subscribe'), /^\/sha256\/[0-9a-f]{64}$/);
    assert.equal(share.searchParams.has('token'), false);
    const viewer = await openPage(browser, hashOnly, `${share.search}&ice=none`);
    pages.push(viewer);
    await waitForMedia(viewer);
  } finally {
    await Promise.all(pages.map((p) => p.context().close()));
  }
});
