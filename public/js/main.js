// The page's entry point: picks the view its link asks for. UI only: the protocol lives in
// streams-client.js, WebRTC in peer.js, each view in page/.
import { clientOptions, configurationOverrides, debug, params, report, setStatus, setView, showProblem, streamPathParam, watchConnection } from './page/common.js';
import { landing } from './page/landing.js';
import { publish } from './page/publisher.js';
import { subscribe } from './page/viewer.js';

// rtclite's URL convention: ?publish=<path> and ?subscribe=<path>; ours: ?call=<path>, ?room=<path>.
if (params.has('publish')) {
  const path = streamPathParam('publish');
  if (path) publish(path).catch(report);
} else if (params.has('subscribe')) {
  const path = streamPathParam('subscribe');
  if (path) subscribe(path);
} else if (params.has('call') || params.has('room')) {
  // Calls and conferences (issue 16) live in their own modules, loaded only in those modes and
  // lent the page's helpers.
  const kind = params.has('call') ? 'call' : 'room';
  const path = streamPathParam(kind);
  /** @type {import('./page/room-view.js').PageKit} */
  const kit = { setView, setStatus, showProblem, watchConnection, clientOptions, configurationOverrides, debug };
  if (path) {
    import(kind === 'call' ? './page/call.js' : './page/conference.js')
      .then((mode) => mode.start(path, kit))
      .catch((/** @type {unknown} */ err) => {
        report(err);
        setStatus('error', `Something went wrong: ${err instanceof Error ? err.message : String(err)}`);
      });
  }
} else {
  landing();
}
