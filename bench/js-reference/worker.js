// The comparison target: the same protocol as a plain-JavaScript Durable Object, written the
// way the Cloudflare docs teach (Hibernatable WebSockets, tags for lookups, attachments for
// identity). No limits, tokens or ICE sources: only what the benchmark exercises.

const event = (type, id) => JSON.stringify({ method: 'EVENT', data: { type, id } });

export class Stream {
  constructor(ctx) {
    this.ctx = ctx;
  }

  async fetch(request) {
    const mode = new URL(request.url).searchParams.get('mode');
    const role = mode === 'publish' ? 'pub' : 'sub';
    const [client, server] = Object.values(new WebSocketPair());
    const id = crypto.randomUUID().replaceAll('-', '').slice(0, 24);
    const publisher = this.open('role:pub')[0];
    if (role === 'pub' && publisher) {
      server.accept();
      server.send(JSON.stringify({ code: 'failed', reason: 'publisher-exists: this stream already has a publisher' }));
      server.close(4001, 'publisher-exists');
      return new Response(null, { status: 101, webSocket: client });
    }
    // Read the members before accepting, so the newcomer is not announced to itself.
    const subscribers = role === 'pub' ? this.open('role:sub') : [];
    this.ctx.acceptWebSocket(server, [`id:${id}`, `role:${role}`]);
    server.serializeAttachment({ id, role });
    server.send(event('created', id));
    if (role === 'pub') {
      for (const sub of subscribers) server.send(event('subscribed', sub.deserializeAttachment().id));
      for (const sub of subscribers) sub.send(event('published', id));
    } else if (publisher) {
      server.send(event('published', publisher.deserializeAttachment().id));
      publisher.send(event('subscribed', id));
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  webSocketMessage(ws, text) {
    const me = ws.deserializeAttachment();
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      ws.send(JSON.stringify({ code: 'failed', reason: 'invalid-json: the frame is not valid JSON' }));
      return;
    }
    if (msg.method === 'GET' && msg.resource === '/peerconnection') {
      ws.send(JSON.stringify({ msg_id: msg.msg_id, code: 'success', result: { configuration: { iceServers: [] } } }));
      return;
    }
    if (msg.method !== 'NOTIFY') return;
    const to = String(msg.to);
    const [target] = this.open(`id:${to}`);
    const targetRole = target?.deserializeAttachment().role;
    if (!target || targetRole === me.role) {
      ws.send(event(me.role === 'pub' ? 'unsubscribed' : 'unpublished', to));
      return;
    }
    delete msg.to;
    msg.from = me.id;
    target.send(JSON.stringify(msg));
  }

  webSocketClose(ws, code, reason) {
    this.depart(ws);
    ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
  }

  webSocketError(ws) {
    this.depart(ws);
  }

  depart(ws) {
    const me = ws.deserializeAttachment();
    if (!me || me.gone) return;
    ws.serializeAttachment({ ...me, gone: true });
    if (me.role === 'pub') {
      for (const sub of this.open('role:sub')) sub.send(event('unpublished', me.id));
    } else {
      for (const pub of this.open('role:pub')) pub.send(event('unsubscribed', me.id));
    }
  }

  /** Sockets with this tag that are still open and not yet departed. */
  open(tag) {
    return this.ctx
      .getWebSockets(tag)
      .filter((ws) => ws.readyState === WebSocket.OPEN && !ws.deserializeAttachment()?.gone);
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.headers.get('Upgrade') !== 'websocket') return new Response('upgrade-required', { status: 426 });
    const stub = env.STREAMS.get(env.STREAMS.idFromName(url.pathname));
    return stub.fetch(request);
  },
};
