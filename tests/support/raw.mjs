// Raw HTTP upgrades over node:net, for what a WebSocket API hides: the status of a refused
// handshake, and connections cut without a close frame.
import net from 'node:net';
import crypto from 'node:crypto';

/**
 * Sends a GET with WebSocket upgrade headers and resolves with the status line's code, the
 * headers and the body (when the server answers without upgrading), and the socket.
 * @param {URL} base  the server's http URL
 * @param {string} pathAndQuery
 */
export function rawUpgrade(base, pathAndQuery, extraHeaders = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(base.port), base.hostname);
    const headers = {
      Host: base.host,
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
      'Sec-WebSocket-Version': '13',
      ...extraHeaders,
    };
    const head = [`GET ${pathAndQuery} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
    let buffer = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', function onData(chunk) {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const rest = buffer.subarray(end + 4);
      if (status === 101) {
        // Hold further data until a frame reader attaches, or it would be dropped.
        socket.off('data', onData);
        socket.pause();
        resolve({ status, socket, rest });
        return;
      }
      // Wait for the whole (small) body of an error answer.
      const length = Number(/content-length: *(\d+)/i.exec(lines.join('\n'))?.[1] ?? NaN);
      if (Number.isFinite(length) && rest.length < length) return;
      socket.off('data', onData);
      resolve({ status, headers: lines.slice(1), body: rest.toString('utf8'), socket });
    });
    socket.write(head);
  });
}

/**
 * Reads unmasked server text frames from an upgraded socket (enough for small frames).
 * `onFrame`, when given, receives each text frame as it arrives instead of the queue.
 */
export function frameReader(socket, initial = Buffer.alloc(0), onFrame = undefined) {
  let buffer = initial;
  const frames = [];
  const closes = [];
  // Each waiter is called on new data until it is satisfied or times out; a satisfied one must
  // not stay behind, or it would take a later frame meant for someone else.
  const waiters = new Set();
  const notify = () => {
    for (const w of [...waiters]) if (w()) waiters.delete(w);
  };
  /** Runs `check` now and on new data until it returns true; rejects after `ms`. */
  const wait = (check, ms, reject, describe) => {
    if (check()) return;
    const timer = setTimeout(() => {
      waiters.delete(guarded);
      reject(new Error(describe()));
    }, ms);
    const guarded = () => {
      if (!check()) return false;
      clearTimeout(timer);
      return true;
    };
    waiters.add(guarded);
  };
  const drain = () => {
    for (;;) {
      if (buffer.length < 2) break;
      let len = buffer[1] & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (buffer.length < 4) break;
        len = buffer.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (buffer.length < 10) break;
        len = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffer.length < offset + len) break;
      const opcode = buffer[0] & 0x0f;
      const payload = buffer.subarray(offset, offset + len);
      buffer = buffer.subarray(offset + len);
      if (opcode === 1) {
        // JSON, or the heartbeat's `pong` as it came.
        const text = payload.toString('utf8');
        let frame;
        try {
          frame = JSON.parse(text);
        } catch {
          frame = text;
        }
        if (onFrame) onFrame(frame);
        else frames.push(frame);
      }
      if (opcode === 8) {
        closes.push({
          code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005,
          reason: payload.subarray(2).toString('utf8'),
        });
      }
    }
    notify();
  };
  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    drain();
  });
  drain();
  socket.resume();
  return {
    frames,
    /** Resolves with the first frame matching `match`, waiting for it if needed. */
    next(match = () => true, ms = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const i = frames.findIndex(match);
          if (i < 0) return false;
          resolve(frames.splice(i, 1)[0]);
          return true;
        };
        wait(check, ms, reject, () => `no frame; got ${JSON.stringify(frames)}`);
      });
    },
    /** Resolves with the server's close frame `{code, reason}`. */
    nextClose(ms = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (closes.length === 0) return false;
          resolve(closes.shift());
          return true;
        };
        wait(check, ms, reject, () => 'no close frame');
      });
    },
  };
}

/** Encodes one masked client frame (clients must mask). */
export function clientFrame(opcode, payload) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const mask = crypto.randomBytes(4);
  let header;
  if (data.length < 126) {
    header = Buffer.from([0x80 | opcode, 0x80 | data.length]);
  } else if (data.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(data.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(data.length), 2);
  }
  const masked = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) masked[i] = data[i] ^ mask[i % 4];
  return Buffer.concat([header, mask, masked]);
}
