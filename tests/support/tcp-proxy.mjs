// A TCP proxy on 127.0.0.1 in front of the local runtime, so a test can break a client's
// network the ways real networks break: cut every connection with a TCP reset (a phone leaving
// Wi-Fi), or freeze them (open but silent: a sleeping laptop, a dead NAT entry), and refuse new
// connections until it heals. Give each client its own proxy to break one and not another.
import net from 'node:net';

/**
 * @param {number} targetPort the runtime's port on 127.0.0.1
 * @returns {Promise<{ port: number, origin: string, connections: () => number, cut: () => void, freeze: () => void, heal: () => void, close: () => Promise<void> }>}
 */
export async function startProxy(targetPort) {
  /** @type {Set<{ client: net.Socket, upstream: net.Socket }>} */
  const pairs = new Set();
  let down = false;
  const server = net.createServer((client) => {
    if (down) {
      // Unreachable while down: the connection attempt fails at once.
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = /** @type {net.AddressInfo} */ (server.address());
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    connections: () => pairs.size,
    /** Resets every connection (both sides see a TCP RST) and refuses new ones until healed. */
    cut() {
      down = true;
      for (const { client, upstream } of [...pairs]) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      pairs.clear();
    },
    /** Keeps every connection open but carries nothing either way; refuses new ones until healed. */
    freeze() {
      down = true;
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    /** Accepts new connections again (frozen ones stay frozen: the client must give them up). */
    heal() {
      down = false;
    },
    close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
