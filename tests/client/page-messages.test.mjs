// The page has a clear message for every way the server can refuse or end a connection: each
// close code of docs/PROTOCOL.md, and the publisher leaving (issue 14, item 3). No browser: the
// table is plain data (public/js/page/messages.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { MESSAGE_CODES, refusalMessage, sentenceOf } from '../../public/js/page/messages.js';

const protocol = await readFile(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
const closeTable = protocol.slice(protocol.indexOf('## Close codes'), protocol.indexOf('## Resume'));
/** Every `| 40xx | \`code\` |` row: the server's reasons for closing. */
const closeCodes = [...closeTable.matchAll(/^\| (\d{4}) \| `([a-z-]+)` \|/gm)].map((m) => ({ close: Number(m[1]), code: m[2] }));
const fallback = refusalMessage('no-such-code', 'subscribe');

test('the protocol document lists the close codes this test reads', () => {
  assert.ok(closeCodes.length >= 20, `found ${closeCodes.length}`);
  assert.ok(closeCodes.some((c) => c.code === 'publisher-exists'));
});

test('every close code of the protocol has its own message, in both modes', () => {
  for (const { code } of closeCodes) {
    assert.ok(MESSAGE_CODES.includes(code), `${code} has a message`);
    for (const mode of ['publish', 'subscribe']) {
      const { title, advice } = refusalMessage(code, mode);
      assert.notEqual(title, fallback.title, `${code} is not the general message`);
      assert.ok(title.length > 10 && advice.length > 10, `${code}: "${title}" / "${advice}"`);
      assert.doesNotMatch(`${title} ${advice}`, /undefined|null/);
    }
  }
});

test('the publisher leaving and waiting for one have messages', () => {
  assert.equal(refusalMessage('publisher-left', 'subscribe').title, 'The publisher left');
  assert.equal(refusalMessage('waiting-for-publisher', 'subscribe').title, 'Waiting for the publisher');
});

test('a token for the other mode is explained for the mode the page is in', () => {
  assert.match(refusalMessage('token-wrong-mode', 'publish').advice, /ask for a publisher link/);
  assert.match(refusalMessage('token-wrong-mode', 'subscribe').advice, /ask for a viewer link/);
});

test('unknown codes (a newer server) and odd keys get the general message', () => {
  for (const code of [undefined, 'no-such-code', '__proto__', 'constructor', 'toString']) {
    assert.deepEqual(refusalMessage(code, 'publish'), fallback);
  }
  assert.equal(sentenceOf('token-expired: the token has expired'), 'The token has expired.');
  assert.equal(sentenceOf(undefined), '');
});
