// The stream paths of calls and conferences, derived from the one path in the page's link.
// Everything here is checked with the same rules as any stream path (normalizePath), so a call
// or room link can no more name another host than a stream link can.
import { normalizePath, StreamPathError } from '../streams-client.js';

/** How long a participant's own name in a room is: 8 hex digits, 4 billion names per room. */
const PARTICIPANT_NAME_LENGTH = 8;

/**
 * The base path of a call or room from its link's text: a plain stream path, without a trailing
 * `/`. Hash paths are refused: a stream published on `/sha256/<room>/<name>` is heard on
 * `/sha256/<hex>`, which is not under the room, so nobody could find it there.
 * @param {unknown} input
 * @returns {string}
 */
export function basePath(input) {
  const text = typeof input === 'string' ? input.trim().replace(/(.)\/$/, '$1') : input;
  const path = normalizePath(text);
  if (/^\/(sha1|sha256)(\/|$)/.test(path)) {
    throw new StreamPathError('invalid-path', 'A call or conference needs a plain name, like /calls/team; hash paths cannot be shared this way.');
  }
  // Every stream of the call or room is one segment longer: check the longest one now, so the
  // page refuses the link before it asks for the camera.
  normalizePath(`${path}/${'0'.repeat(PARTICIPANT_NAME_LENGTH)}`);
  return path;
}

/**
 * The two streams of a two-party call: whoever publishes first on `/1` has it, the other `/2`.
 * @param {string} call
 */
export function callSlots(call) {
  return [`${call}/1`, `${call}/2`];
}

/**
 * The other party's stream in a call.
 * @param {string} call
 * @param {string} mine
 */
export function otherSlot(call, mine) {
  const [first, second] = callSlots(call);
  return mine === first ? second : first;
}

/**
 * A new participant's stream in `room`: a random name one segment below it.
 * @param {string} room
 * @param {() => Uint8Array} [random] 4 random bytes (tests give their own)
 */
export function participantPath(room, random = () => crypto.getRandomValues(new Uint8Array(PARTICIPANT_NAME_LENGTH / 2))) {
  const name = [...random()].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${room}/${name}`;
}

/**
 * Whether `path`, as a server's room event names it, is a stream directly under `room` that
 * this page may connect to. The page joins what the server lists, so it checks that first: a
 * path that does not pass the page's own rules is ignored.
 * @param {string} room
 * @param {unknown} path
 */
export function isParticipant(room, path) {
  if (typeof path !== 'string' || !path.startsWith(`${room}/`)) return false;
  const rest = path.slice(room.length + 1);
  if (rest === '' || rest.includes('/')) return false;
  try {
    return normalizePath(path) === path;
  } catch {
    return false;
  }
}

