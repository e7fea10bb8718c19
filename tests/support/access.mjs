// Helpers for the access, limits and adversarial tests: connections with headers, refusals
// read to the end, and raw HTTP upgrades that send a path byte for byte.
import net from 'node:net';
import { Client } from './client.mjs';

/**
 * Opens a stream connection with optional query token and request headers (node's WebSocket
 * accepts `{ headers }`); resolves with the client once the socket is open.
 * @param {string} base `ws://host:port`
 * @param {string} path
 * @param {{ mode?: string, token?: string, headers?: Record<string, string> }} [options]
 */
export function open(base, path, { mode, token, headers } = {}) {
  const query = new URLSearchParams();
  if (mode) query.set('mode', mode);
  if (token) query.set('token', token);
  const url = `${base}${path}${query.size ? `?${query}` : ''}`;
  const ws = new WebSocket(url, headers ? { headers } : undefined);
  const client = new Client(ws);
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve(client), { once: true });
    ws.addEventListener('error', () => reject(new Error(`cannot open ${url}`)), { once: true });
  });
}

/** Opens a connection that must be admitted: waits for `created` and records the id. */
export async function join(base, path, options) {
  const client = await open(base, path, options);
  const created = await client.next();
  if (created?.data?.type !== 'created') throw new Error(`first frame was ${JSON.stringify(created)}`);
  client.id = created.data.id;
  return client;
}

/** Resolves with `{ code, reason }` once the client's socket closes; rejects after `ms`. */
export function closed(client, ms = 10_000) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not closed within ${ms} ms`)), ms);
  });
  return Promise.race([client.closed, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Opens a connection that must be refused; resolves with the error code from its one frame and
 * the close code and reason.
 */
export async function refusal(base, path, options) {
  const client = await open(base, path, options);
  const frame = await client.next();
  const end = await closed(client);
  return { code: frame?.reason?.split(':')[0], frame, close: end.code, reason: end.reason };
}

/** The code part of an error frame's reason (`"frame-too-large: ..."` gives `frame-too-large`). */
export const errorCode = (frame) => frame?.reason?.split(':')[0];

/**
 * Sends a WebSocket upgrade over a plain TCP socket with `rawPath` exactly as given (bytes, not
 * a URL a client library could normalize first). Resolves with the HTTP status and the text of
 * every unmasked server frame received within `ms`.
 * @param {URL} url the server's URL
 * @param {Buffer | string} rawPath
 * @param {{ host?: string, headers?: Record<string, string>, ms?: number }} [options]
 */
export function rawUpgrade(url, rawPath, { host = url.host, headers = {}, ms = 1000 } = {}) {
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const head =
    `HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
  const request = Buffer.concat([Buffer.from('GET '), Buffer.from(rawPath, 'latin1'), Buffer.from(` ${head}`)]);
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname, () => socket.write(request));
    let data = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
    });
    const finish = () => {
      socket.destroy();
      resolve(parseResponse(data));
    };
    const timer = setTimeout(finish, ms);
    socket.on('close', () => {
      clearTimeout(timer);
      finish();
    });
    socket.on('error', () => {});
  });
}

function parseResponse(data) {
  const end = data.indexOf('\r\n\r\n');
  const headText = data.subarray(0, end < 0 ? data.length : end).toString('latin1');
  const status = Number(headText.split(' ')[1]);
  let rest = end < 0 ? Buffer.alloc(0) : data.subarray(end + 4);
  const frames = [];
  let close;
  if (status === 101) {
    // Server frames are unmasked; lengths up to 64 KiB are enough here.
    while (rest.length >= 2) {
      const opcode = rest[0] & 0x0f;
      let len = rest[1] & 0x7f;
      let offset = 2;
      if (len === 126) {
        len = rest.readUInt16BE(2);
        offset = 4;
      }
      if (rest.length < offset + len) break;
      const payload = rest.subarray(offset, offset + len);
      if (opcode === 1) frames.push(JSON.parse(payload.toString('utf8')));
      if (opcode === 8) close = { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') };
      rest = rest.subarray(offset + len);
    }
  }
  return { status, head: headText, body: status === 101 ? '' : rest.toString('utf8'), frames, close };
}
