// A local stand-in for Cloudflare's generate-ice-servers API (the real one is unreachable from
// the test machines), counting the calls it gets.
import http from 'node:http';

export const CLOUDFLARE_ANSWER = {
  iceServers: [
    { urls: ['stun:stun.cloudflare.com:3478'] },
    {
      urls: ['turn:turn.cloudflare.com:3478?transport=udp', 'turns:turn.cloudflare.com:443?transport=tcp'],
      username: 'cf-user',
      credential: 'cf-credential',
    },
  ],
};

/**
 * Starts the fake on 127.0.0.1. Each call is answered with `status` and `body` after `delayMs`
 * (so that concurrent requests overlap one call).
 * @param {{ status?: number, body?: unknown, delayMs?: number }} [options]
 * @returns {Promise<{ base: string, calls: object[], stop: () => Promise<void> }>}
 */
export async function fakeCloudflare({ status = 201, body = CLOUDFLARE_ANSWER, delayMs = 0 } = {}) {
  const calls = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      calls.push({ method: req.method, url: req.url, body: text });
      setTimeout(() => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      }, delayMs);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${server.address().port}/v1`,
    calls,
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(r);
      }),
  };
}
