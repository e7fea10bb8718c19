// Helpers for the call and conference page tests (`?call=`, `?room=`): what each page receives, read
// from its own peer connections' statistics.

/**
 * Resolves once the video this page receives from `from` has arrived and grown for at least
 * `atLeastMs` of the page's clock: `from` is `'call'` (the other side of a call) or a
 * participant's stream path in a conference. Rejects after `timeout` ms with what it saw.
 * The loop runs in the page: Playwright's waitForFunction takes an async predicate's Promise
 * for a truthy answer, so getStats cannot be awaited there.
 * @param {import('playwright-core').Page} page
 * @param {string} from
 * @returns {Promise<{ first: number, last: number }>} the video bytes received at both ends
 */
export function videoGrows(page, from, { atLeastMs = 1000, timeout = 30_000 } = {}) {
  return page.evaluate(
    async ({ from, atLeastMs, timeout }) => {
      const debug = window.namedStreams;
      const mesh = () => (from === 'call' ? debug.call?.receive : debug.conference?.participants.get(from)?.mesh);
      /** What a failure message shows: the connection's state and its inbound video. */
      let seen = 'no connection';
      const videoBytes = async () => {
        const [peer] = mesh()?.peers.values() ?? [];
        let bytes = 0;
        seen = peer ? peer.pc.connectionState : 'no connection';
        if (peer?.pc.connectionState === 'connected') {
          (await peer.pc.getStats()).forEach((s) => {
            if (s.type === 'inbound-rtp' && s.kind === 'video') {
              bytes += s.bytesReceived;
              seen += `, ${s.framesReceived} frames received, ${s.framesDecoded} decoded, ${s.pliCount} PLIs, ${s.nackCount} NACKs, ${s.packetsLost} lost`;
            }
          });
        }
        return bytes;
      };
      const start = performance.now();
      let first = null;
      for (;;) {
        const now = await videoBytes();
        if (first === null && now > 0) first = { bytes: now, at: performance.now() };
        if (first && now > first.bytes && performance.now() - first.at >= atLeastMs) return { first: first.bytes, last: now };
        if (performance.now() - start > timeout) throw new Error(`video from ${from} did not grow in ${timeout} ms (${first?.bytes ?? 0} → ${now} bytes; ${seen})`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    { from, atLeastMs, timeout },
  );
}

/** Closes the pages' browser contexts (a tab closing: its sockets close at once). */
export async function closeAll(pages) {
  await Promise.all(pages.filter((p) => !p.isClosed()).map((p) => p.context().close()));
}
