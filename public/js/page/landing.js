// The landing view: start a stream, or watch one (and ask whether it is live first).
import { normalizePath, StreamPathError } from '../streams-client.js';
import { describeStatus, fetchStreamStatus } from '../stream-status.js';
import { $, report, setStatus, setView } from './common.js';

/**
 * What the watch form was given: a stream path, or a link shared from this site (whose stream
 * is taken). Links to other sites are refused, not followed.
 * @param {string} text
 * @returns {string} the normalized stream path
 */
function pathFromForm(text) {
  const trimmed = text.trim();
  if (!/^[a-z][a-z0-9+.-]*:/i.test(trimmed)) return normalizePath(trimmed);
  let url;
  try {
    url = new URL(trimmed);
  } catch {
    throw new StreamPathError('invalid-path', 'That is neither a stream path nor a link.');
  }
  if (url.origin !== location.origin) {
    throw new StreamPathError('invalid-path', `That link is for another site; paste a link from ${location.host} or a stream path.`);
  }
  const named = url.searchParams.get('subscribe') ?? url.searchParams.get('publish');
  if (named === null) throw new StreamPathError('invalid-path', 'That link names no stream.');
  return normalizePath(named);
}

export function landing() {
  setView('landing');
  setStatus('idle', '');
  const input = /** @type {HTMLInputElement} */ ($('join-path'));
  $('create').onclick = () => {
    // New streams are private by default: viewers get the hash link.
    const name = `/sha256/streams/${crypto.randomUUID().slice(0, 8)}`;
    location.search = `?publish=${encodeURIComponent(name)}`;
  };
  $('join').onsubmit = (e) => {
    e.preventDefault();
    try {
      const path = pathFromForm(input.value);
      location.search = `?subscribe=${encodeURIComponent(path)}`;
    } catch (err) {
      if (!(err instanceof StreamPathError)) throw err;
      $('join-error').textContent = err.sentence;
    }
  };
  input.oninput = () => {
    $('join-error').textContent = '';
  };
  // Whether a pasted stream is live, before joining it.
  $('check').onclick = () => {
    checkLive(input.value).catch(report);
  };
}

/** @param {string} text what the form holds */
async function checkLive(text) {
  const note = $('join-status');
  note.textContent = 'Checking…';
  let path;
  try {
    path = pathFromForm(text);
  } catch (err) {
    if (!(err instanceof StreamPathError)) throw err;
    // Not a stream here: the page says why, and asks nobody.
    note.dataset.answer = err.code;
    note.textContent = err.sentence;
    return;
  }
  const answer = await fetchStreamStatus(path);
  note.dataset.answer = answer.ok ? (answer.status.live ? 'live' : 'not-live') : answer.code;
  note.textContent = describeStatus(answer);
}
