// What the page tells people about each way a stream connection can end or be refused: one row
// per server code (docs/PROTOCOL.md, "Close codes"), so none is missing. No DOM here: the tests
// check the table against the protocol document in Node.

/**
 * @typedef {object} Message
 * @property {string} title what happened, in a few words
 * @property {string} advice what to do about it
 */

/** @typedef {'publish' | 'subscribe'} Mode */

/** @type {Record<string, [string, string | ((mode: Mode) => string)]>} */
const MESSAGES = {
  'publisher-exists': [
    'Someone is already publishing on this stream',
    'The page keeps trying and takes over when they stop; or start a new stream.',
  ],
  'hash-path-publish': ['This is a viewer link', 'Open it with ?subscribe= to watch, or start a new stream.'],
  'invalid-path': ['This link does not name a stream', 'Check the link you were given, or ask for a new one.'],
  'path-too-long': ['This stream name is too long', 'Use a shorter name.'],
  'path-not-allowed': ['This server does not serve this stream', 'Check the link you were given.'],
  'origin-not-allowed': ['This server does not accept connections from this site', 'Open the stream from the site its operator gave you.'],
  'host-not-allowed': ['This server does not serve this address', 'Use the address its operator gave you.'],
  'hash-prefix-variant': ['This link spells a private stream wrongly', 'Private streams start with /sha1/ or /sha256/ in lower case: copy the whole link again.'],
  'token-missing': ['This stream needs a token', 'Ask whoever shared the stream for a link that includes one.'],
  'token-malformed': ['The token in this link is damaged', 'Copy the whole link again, or ask for a new one.'],
  'token-bad-signature': ['The token in this link is not valid here', 'Ask whoever shared the stream for a new link.'],
  'token-expired': ['The token in this link has expired', 'Ask whoever shared the stream for a new link.'],
  'token-wrong-path': ['The token in this link is for another stream', 'Ask for a link made for this stream.'],
  'token-wrong-mode': [
    'The token in this link does not allow this',
    (mode) => (mode === 'publish' ? 'It lets you watch, not publish: ask for a publisher link.' : 'It is for publishing: ask for a viewer link.'),
  ],
  'stream-full': ['This stream has as many viewers as it accepts', 'The page keeps trying and joins when someone leaves.'],
  'connect-rate': ['Too many connections from your network', 'The page tries again in a moment.'],
  flooding: ['This page sent too much too fast and was disconnected', 'It reconnects by itself; reload if it does not.'],
  'relay-budget': ['This page sent more than the stream allows and was disconnected', 'It reconnects by itself; reload if it does not.'],
  'resume-invalid': ['The connection could not be resumed', 'The page joins the stream again.'],
  'resume-expired': ['The connection was away too long to resume', 'The page joins the stream again.'],
  replaced: ['This stream was opened again in another tab or window; this one stopped', 'Close this tab, or reload it to take the stream back.'],
  'heartbeat-timeout': ['The server stopped hearing from this page', 'The page reconnects by itself.'],
  internal: ['The server had a problem', 'The page tries again; reload if it keeps failing.'],
  'publisher-left': ['The publisher left', 'This page waits and shows the stream again when they come back.'],
  'waiting-for-publisher': ['Waiting for the publisher', 'Nobody is publishing on this stream yet: the video starts when someone does.'],
};

/** The codes the table covers (for the tests). */
export const MESSAGE_CODES = Object.freeze(Object.keys(MESSAGES));

/**
 * The title and advice for a server code (or `publisher-left`); a general message for codes this
 * page does not know (a newer server), never nothing.
 * @param {string | undefined} code
 * @param {Mode} mode
 * @returns {Message}
 */
export function refusalMessage(code, mode) {
  const row = code !== undefined && Object.hasOwn(MESSAGES, code) ? MESSAGES[code] : undefined;
  if (!row) return { title: 'The server refused this connection', advice: 'Check the link, or ask for a new one.' };
  const [title, advice] = row;
  return { title, advice: typeof advice === 'function' ? advice(mode) : advice };
}

/**
 * `"token-expired: the token has expired"` → `"The token has expired."`
 * @param {unknown} reason
 */
export function sentenceOf(reason) {
  const text = String(reason ?? '').replace(/^[a-z-]+: /, '');
  return text ? `${text[0].toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}` : '';
}
