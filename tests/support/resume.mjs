// Helpers for the resume, dead-peer and restart tests: joins that keep the `created` frame's
// resume value, resumes and refused resumes, connections through the test proxy, and a check
// that nothing more arrived.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from './client.mjs';
import { rawUpgrade, frameReader, clientFrame } from './raw.mjs';

/** `path` with `resume=<value>` (and `token=<token>` when given) in its query. */
export function resumePath(path, value, token) {
  const query = new URLSearchParams({ resume: value });
  if (token) query.set('token', token);
  return `${path}?${query}`;
}

/**
 * Joins (`base` may be the server's or a proxy's `ws://` origin) and keeps the `created`
 * frame's id and resume value on the client.
 * @returns {Promise<Client & { id: string, resume: string }>}
 */
export async function join(base, path, mode, token) {
  const client = await Client.open(base, token ? `${path}?token=${encodeURIComponent(token)}` : path, mode);
  const created = await client.next();
  assert.equal(created?.data?.type, 'created', `first frame: ${JSON.stringify(created)}`);
  assert.equal(created.data.resumed, undefined, 'a fresh join is not a resume');
  assert.equal(typeof created.data.resume, 'string', 'resume is on: created carries a value');
  client.id = created.data.id;
  client.resume = created.data.resume;
  return client;
}

/**
 * Joins through the proxy; resolves with the client and the link that carries it.
 * @param {{ wsBase: string, nextLink: () => Promise<import('./tcp-proxy.mjs').Link> }} proxy
 */
export async function joinThrough(proxy, path, mode, token) {
  const link = proxy.nextLink();
  const client = await join(proxy.wsBase, path, mode, token);
  return { client, link: await link };
}

/**
 * Resumes with `value` and checks the answer: `created` with the `id` it must keep, marked
 * resumed, with a new value. The client's `id` and `resume` are set from it.
 */
export async function resume(base, path, mode, value, id, token) {
  const client = await Client.open(base, resumePath(path, value, token), mode);
  const created = await client.next();
  assert.equal(created?.data?.type, 'created', `first frame: ${JSON.stringify(created)}`);
  assert.equal(created.data.id, id, 'a resumed member keeps its id');
  assert.equal(created.data.resumed, true);
  assert.equal(typeof created.data.resume, 'string');
  assert.notEqual(created.data.resume, value, 'every created issues a new value');
  client.id = created.data.id;
  client.resume = created.data.resume;
  return client;
}

/**
 * Opens a connection that must be refused: resolves with its one frame's error code and the
 * close code. The socket must carry nothing else.
 */
export async function refused(base, pathAndQuery, mode) {
  const client = await Client.open(base, pathAndQuery, mode);
  const frame = await client.next();
  const { code } = await client.closed;
  assert.deepEqual(client.frames, [], 'a refused connection gets one frame');
  return { code: frame?.reason?.split(':')[0], close: code };
}

/**
 * Waits `ms`, then returns what the client has received and not yet read: an empty list means
 * nothing more arrived (the unread frames are what counts, not how many came during the wait).
 */
export async function unreadAfter(client, ms = 300) {
  await sleep(ms);
  return [...client.frames];
}

/** Waits `ms`, then asserts that none of the clients has an unread frame. */
export async function assertSilent(clients, ms = 300, what = 'nothing more arrived') {
  await sleep(ms);
  for (const c of clients) assert.deepEqual(c.frames, [], `${what} (client ${c.id})`);
}

/** The parsed NOTIFY frames a client reads next, `n` of them, in order. */
export async function notifies(client, n, ms) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await client.next((f) => f?.method === 'NOTIFY', ms));
  return out;
}

/**
 * Joins over a raw TCP connection through the proxy. Its reader sees the server's close frame
 * the moment it arrives: a WebSocket client reports a close only once the TCP connection ends,
 * and the local runtime keeps the connection of a socket closed from another socket's event
 * (a replaced zombie) open until the object is evicted, ~10 s later.
 * @returns {Promise<{ id: string, resume: string, link: import('./tcp-proxy.mjs').Link, reader: ReturnType<typeof frameReader> }>}
 */
export async function joinRawThrough(proxy, path, mode) {
  const link = proxy.nextLink();
  const { status, socket, rest } = await rawUpgrade(new URL(proxy.origin), `${path}?mode=${mode}`);
  assert.equal(status, 101);
  const reader = frameReader(socket, rest);
  const created = await reader.next();
  assert.equal(created?.data?.type, 'created');
  return { id: created.data.id, resume: created.data.resume, link: await link, reader, socket };
}

let probes = 0;
/**
 * Resolves once the server has handled every frame the client sent before: frames on one
 * socket are handled in order, and a `GET` is answered to its sender alone.
 */
export async function roundTrip(client) {
  const msgId = `probe-${++probes}`;
  client.send({ method: 'GET', resource: '/peerconnection', msg_id: msgId });
  await client.next((f) => f?.msg_id === msgId);
}

/** Sends the heartbeat `ping` on a raw connection and waits for the runtime's `pong`. */
export async function rawHeartbeat(raw) {
  raw.socket.write(clientFrame(1, 'ping'));
  assert.equal(await raw.reader.next(), 'pong');
}
