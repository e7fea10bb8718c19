// A WebSocket test client that queues every frame so tests can wait on what they expect.
// Needs node's global WebSocket (node 22, or node 20 with --experimental-websocket).

export class Client {
  /** @param {WebSocket} ws */
  constructor(ws) {
    this.ws = ws;
    /** Frames received and not yet taken by `next()`, oldest first, parsed when JSON. */
    this.frames = [];
    this.waiters = [];
    this.closed = new Promise((resolve) => {
      ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason }));
    });
    ws.addEventListener('message', (e) => {
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        frame = e.data;
      }
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => !w());
    });
  }

  /** Opens `base + path` and resolves once the socket is open. */
  static open(base, path, mode) {
    const sep = path.includes('?') ? '&' : '?';
    const url = mode ? `${base}${path}${sep}mode=${mode}` : `${base}${path}`;
    const ws = new WebSocket(url);
    const client = new Client(ws);
    return new Promise((resolve, reject) => {
      ws.addEventListener('open', () => resolve(client), { once: true });
      ws.addEventListener('error', () => reject(new Error(`cannot open ${url}`)), { once: true });
    });
  }

  /** Opens a stream connection and waits for its `created` event; resolves with the client. */
  static async join(base, path, mode) {
    const client = await Client.open(base, path, mode);
    const created = await client.next();
    if (created?.data?.type !== 'created') throw new Error(`first frame was ${JSON.stringify(created)}`);
    client.id = created.data.id;
    return client;
  }

  /** The next unread frame matching `match` (default: any); earlier non-matching frames stay unread. */
  next(match = () => true, ms = 5000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = 0; i < this.frames.length; i++) {
          if (match(this.frames[i])) {
            const [frame] = this.frames.splice(i, 1);
            resolve(frame);
            return true;
          }
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== guarded);
        reject(new Error(`no matching frame within ${ms} ms; unread: ${JSON.stringify(this.frames)}`));
      }, ms);
      const guarded = () => {
        if (check()) {
          clearTimeout(timer);
          return true;
        }
        return false;
      };
      this.waiters.push(guarded);
    });
  }

  /** The next `EVENT` of this type (and id, when given). */
  event(type, id, ms) {
    return this.next((f) => f?.method === 'EVENT' && f.data?.type === type && (id === undefined || f.data.id === id), ms);
  }

  /**
   * Resolves true if, after waiting `ms`, no frame is unread: for asserting silence. A frame that
   * arrived before the wait and was never taken by `next()` counts too, so a test must read every
   * frame it expects before asking; `quiet(0)` checks what has already arrived.
   */
  async quiet(ms = 300) {
    await new Promise((r) => setTimeout(r, ms));
    return this.frames.length === 0;
  }

  send(frame) {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  close(code = 1000, reason = '') {
    this.ws.close(code, reason);
    return this.closed;
  }
}
