// A small stand-in for the server's resume protocol (docs/PROTOCOL.md, "Resume"), for testing
// the client's side of it: it issues single-use resume values, keeps a member while it is away,
// queues what is sent to it meanwhile, and lets a test cut, silence or refuse connections at
// will. It does not relay, announce or check anything else: the real runtime's tests do that.
import { WebSocketServer } from 'ws';
import { randomBytes } from 'node:crypto';

/**
 * @typedef {object} FakeMember
 * @property {string} id
 * @property {string} path
 * @property {string} mode
 * @property {string | null} resume the value its latest `created` carried
 * @property {import('ws').WebSocket | null} socket null while it is away
 * @property {string[]} queue frames sent while it was away
 * @property {any[]} received JSON frames it sent, in order, whichever socket carried them
 * @property {boolean} silent answers nothing (not even `pong`) while true
 */

/**
 * @param {{ resume?: boolean, token?: string }} [options] `resume: false` acts as a server with
 *   resume off (no `resume` in `created`); `token` makes a fresh join need `?token=` equal to it.
 */
export async function startFakeStreams({ resume = true, token } = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  /** @type {Map<string, FakeMember>} */
  const members = new Map();
  /** Every connection attempt: its path and query parameters. */
  const attempts = [];
  const waiters = new Set();
  const fake = {
    wsBase: `ws://127.0.0.1:${wss.address().port}`,
    members,
    attempts,
    /** How the next resume is answered: 'accept', 'expired', 'invalid' or 'token-missing'. */
    nextResume: 'accept',
    /** Resolves with the `n`th attempt (1-based) once it has arrived. */
    attempt(n) {
      if (attempts.length >= n) return Promise.resolve(attempts[n - 1]);
      return new Promise((resolve) => {
        const check = () => {
          if (attempts.length < n) return;
          waiters.delete(check);
          resolve(attempts[n - 1]);
        };
        waiters.add(check);
      });
    },
    /** Sends `frame` to member `id`, or queues it while the member is away. */
    send(id, frame) {
      const member = members.get(id);
      const text = JSON.stringify(frame);
      if (member.socket && !member.silent) member.socket.send(text);
      else member.queue.push(text);
    },
    /** Cuts the member's TCP connection without a close frame (a dropped network). */
    drop(id) {
      members.get(id).socket.terminate();
    },
    /** Leaves the member's connection open but answers nothing on it (a frozen path). */
    silence(id) {
      members.get(id).silent = true;
    },
    /** Closes the member's socket with `code` (after an error frame naming `reason`). */
    close(id, code, reason) {
      const { socket } = members.get(id);
      socket.send(JSON.stringify({ code: 'failed', reason: `${reason}: closed by the test` }));
      socket.close(code, reason);
    },
    /** Resolves once member `id` has sent a frame matching `match`. */
    received(id, match) {
      return new Promise((resolve) => {
        const check = () => {
          const frame = members.get(id)?.received.find(match);
          if (!frame) return;
          waiters.delete(check);
          resolve(frame);
        };
        waiters.add(check);
        check();
      });
    },
    stop() {
      for (const client of wss.clients) client.terminate();
      return new Promise((resolve) => wss.close(resolve));
    },
  };
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const refuse = (ws, code, closeCode) => {
    ws.send(JSON.stringify({ code: 'failed', reason: `${code}: refused by the fake server` }));
    ws.close(closeCode, code);
  };
  const newResume = () => (resume ? randomBytes(18).toString('base64') : null);
  const created = (member, resumed) =>
    JSON.stringify({
      method: 'EVENT',
      data: { type: 'created', id: member.id, ...(resumed ? { resumed: true } : {}), ...(member.resume ? { resume: member.resume } : {}) },
    });

  wss.on('connection', (ws, request) => {
    const url = new URL(request.url, 'http://fake');
    const params = Object.fromEntries(url.searchParams);
    attempts.push({ path: url.pathname, params });
    notify();
    let member;
    if (params.resume !== undefined) {
      const verdict = fake.nextResume;
      fake.nextResume = 'accept';
      member = [...members.values()].find((m) => m.resume === params.resume && m.path === url.pathname && m.mode === params.mode);
      if (verdict === 'token-missing') return refuse(ws, 'token-missing', 4010);
      if (verdict === 'expired') return refuse(ws, 'resume-expired', 4031);
      if (verdict === 'invalid' || !member) return refuse(ws, 'resume-invalid', 4030);
      // A zombie socket of the same member is taken over.
      if (member.socket) {
        member.socket.send(JSON.stringify({ code: 'failed', reason: 'replaced: resumed on a newer connection' }));
        member.socket.close(4032, 'replaced');
      }
      member.socket = ws;
      member.silent = false;
      member.resume = newResume();
      ws.send(created(member, true));
      for (const text of member.queue.splice(0)) ws.send(text);
    } else {
      if (token !== undefined && params.token !== token) return refuse(ws, 'token-missing', 4010);
      member = {
        id: randomBytes(12).toString('hex'),
        path: url.pathname,
        mode: params.mode,
        resume: newResume(),
        socket: ws,
        queue: [],
        received: [],
        silent: false,
      };
      members.set(member.id, member);
      ws.send(created(member, false));
    }
    ws.on('message', (data) => {
      const text = String(data);
      if (member.silent) return;
      if (text === 'ping') {
        ws.send('pong');
        return;
      }
      try {
        member.received.push(JSON.parse(text));
      } catch {
        member.received.push(text);
      }
      notify();
    });
    ws.on('close', () => {
      if (member.socket === ws) member.socket = null;
    });
    ws.on('error', () => {});
  });
  return fake;
}
