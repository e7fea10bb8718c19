// A TCP proxy on 127.0.0.1 in front of the local runtime, so a test can break a client's
// network the ways real networks break: cut every connection with a TCP reset (a phone leaving
// Wi-Fi), or freeze them (open but silent: a sleeping laptop, a dead NAT entry), and refuse new
// connections until it heals. Each connection through it is also a `Link` of its own, so a
// test can break one client and not another, and thaw a frozen one to see what the server left
// waiting on it (a zombie's `replaced` close).
import net from 'node:net';

/**
 * One client connection and its upstream twin.
 * @typedef {{
 *   sever: () => void,
 *   freeze: () => void,
 *   thaw: () => void,
 *   end: () => void,
 *   readonly frozen: boolean,
 *   closed: Promise<void>,
 * }} Link
 */

/**
 * @param {net.Socket} client
 * @param {net.Socket} upstream
 * @param {() => void} onEnd
 * @returns {Link}
 */
function link(client, upstream, onEnd) {
  let frozen = false;
  let ended = false;
  let done = () => {};
  const closed = new Promise((resolve) => {
    done = resolve;
  });
  const flow = () => {
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const end = () => {
    if (ended) return;
    ended = true;
    client.destroy();
    upstream.destroy();
    onEnd();
    done();
  };
  for (const socket of [client, upstream]) {
    socket.on('error', end);
    socket.on('close', end);
  }
  flow();
  return {
    /** Resets both connections: the client and the server each see a TCP RST, no FIN. */
    sever() {
      if (ended) return;
      client.resetAndDestroy();
      upstream.resetAndDestroy();
      end();
    },
    /**
     * Carries nothing either way from now on, but keeps both connections open: bytes wait in
     * the proxy and the kernel's buffers, nobody reads or writes, nobody sees an error.
     */
    freeze() {
      if (ended || frozen) return;
      frozen = true;
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    },
    /** Forwards again, starting with whatever waited while frozen, in order. */
    thaw() {
      if (ended || !frozen) return;
      frozen = false;
      flow();
    },
    /** Closes both connections the ordinary way (a FIN each). */
    end,
    get frozen() {
      return frozen;
    },
    /** Resolves once both connections are gone (closed, reset or severed). */
    closed,
  };
}

/**
 * @param {number} targetPort the runtime's port on 127.0.0.1
 * @returns {Promise<{
 *   port: number,
 *   origin: string,
 *   wsBase: string,
 *   connections: () => number,
 *   nextLink: (ms?: number) => Promise<Link>,
 *   cut: () => void,
 *   freeze: () => void,
 *   heal: () => void,
 *   close: () => Promise<void>,
 * }>}
 */
export async function startProxy(targetPort) {
  /** @type {Set<Link>} */
  const links = new Set();
  /** Calls of `nextLink` waiting for a connection, oldest first. */
  const claims = [];
  let down = false;
  const server = net.createServer((client) => {
    if (down) {
      // Unreachable while down: the connection attempt fails at once.
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    const l = link(client, upstream, () => links.delete(l));
    links.add(l);
    claims.shift()?.(l);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = /** @type {net.AddressInfo} */ (server.address());
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    wsBase: `ws://127.0.0.1:${port}`,
    connections: () => links.size,
    /**
     * The next connection the proxy accepts after this call (call it before opening the
     * client), waiting up to `ms`. Concurrent calls get successive connections.
     */
    nextLink(ms = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          claims.splice(claims.indexOf(take), 1);
          reject(new Error(`no connection through the proxy within ${ms} ms`));
        }, ms);
        const take = (l) => {
          clearTimeout(timer);
          resolve(l);
        };
        claims.push(take);
      });
    },
    /** Resets every connection (both sides see a TCP RST) and refuses new ones until healed. */
    cut() {
      down = true;
      for (const l of [...links]) l.sever();
    },
    /** Keeps every connection open but carries nothing either way; refuses new ones until healed. */
    freeze() {
      down = true;
      for (const l of links) l.freeze();
    },
    /** Accepts new connections again (frozen ones stay frozen: the client must give them up). */
    heal() {
      down = false;
    },
    close() {
      for (const l of [...links]) l.end();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
