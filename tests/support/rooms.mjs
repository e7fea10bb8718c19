// Helpers for the room tests: a watcher that has read its `created` and `streams` frames, the
// next change (`live` or `ended`), and a check that no more frames arrived.
import assert from 'node:assert/strict';
import { Client } from './client.mjs';

/**
 * Opens `?mode=watch` on `room` (its query may carry a token) and reads `created` and the list.
 * @returns {Promise<Client & { id: string, list: { type: string, room: string, streams: { path: string, id: string }[] } }>}
 */
export async function watch(base, room) {
  const client = await Client.open(base, room, 'watch');
  const created = await client.next();
  assert.equal(created?.data?.type, 'created', `first frame: ${JSON.stringify(created)}`);
  client.id = created.data.id;
  const list = await client.next();
  assert.equal(list?.data?.type, 'streams', `second frame: ${JSON.stringify(list)}`);
  client.list = list.data;
  return client;
}

/** The next `live` or `ended` event's data. */
export async function change(watcher, ms = 5000) {
  const frame = await watcher.next((f) => f?.method === 'EVENT' && (f.data?.type === 'live' || f.data?.type === 'ended'), ms);
  return frame.data;
}

/** Opens a watch that must be refused; resolves with its error code and close code. */
export async function refusedWatch(base, room) {
  const client = await Client.open(base, room, 'watch');
  const frame = await client.next();
  const closed = await client.closed;
  assert.equal(frame?.code, 'failed', `expected an error frame, got ${JSON.stringify(frame)}`);
  return { code: frame.reason.split(':')[0], close: closed.code };
}

/** Asserts that nothing arrives on any of `watchers` within `ms` (nor is left unread). */
export async function assertNothingMore(watchers, ms = 300, what = 'nothing more') {
  const list = Array.isArray(watchers) ? watchers : [watchers];
  for (const [i, w] of list.entries()) {
    assert.ok(await w.quiet(i === 0 ? ms : 0), `${what}: got ${JSON.stringify(w.frames)}`);
  }
}
