// The request shapes of Cloudflare's Realtime SFU Connection API, as its OpenAPI schema
// (developers.cloudflare.com/realtime/sfu/api, "calls-api-2024-05-21.yaml") documents them,
// for test support: the stand-in SFU checks every body it is sent against these, and tests of
// the Worker's proxy can check what it forwards. Test code only: the Worker has its own
// (Rust) types and must agree with this file field for field.
//
// The schema marks almost nothing `required`; "missing" here means what the documented
// operation cannot do without (a pull names the publisher's session and track, a renegotiation
// carries the answer). Each rule says which sentence of the reference it stands on.

/** Fields of each schema object, as the OpenAPI components list them. */
export const FIELDS = Object.freeze({
  SessionDescription: ['sdp', 'type'],
  TrackObject: ['location', 'mid', 'sessionId', 'trackName', 'bidirectionalMediaStream', 'kind', 'simulcast'],
  Simulcast: ['preferredRid', 'fallbackStrategy'],
  CloseTrackObject: ['mid'],
  NewSessionRequest: ['sessionDescription'],
  TracksRequest: ['sessionDescription', 'tracks', 'autoDiscover'],
  UpdateTracksRequest: ['tracks', 'sessionDescription'],
  RenegotiateRequest: ['sessionDescription'],
  CloseTracksRequest: ['sessionDescription', 'tracks', 'force'],
});

/** Query parameters `sessions/new` documents. */
export const NEW_SESSION_QUERY = Object.freeze(['thirdparty', 'correlationId']);

/** "Up to 64 tracks can be added with a single API call" (Limits). */
export const MAX_TRACKS_PER_CALL = 64;

/**
 * The operation a request names, or null. Paths are relative to the API base
 * (`https://rtc.live.cloudflare.com/v1`), so `path` starts after `/v1`.
 * @param {string} method
 * @param {string} path e.g. `/apps/abc/sessions/xyz/tracks/new`
 * @returns {{ operation: Operation, appId: string, sessionId?: string } | null}
 */
export function routeOf(method, path) {
  const m = /^\/apps\/([^/]+)\/sessions\/([^/]+)(\/(tracks\/new|tracks\/close|tracks\/update|renegotiate))?$/.exec(path);
  if (!m) return null;
  const [, appId, session, , tail] = m;
  if (session === 'new') return !tail && method === 'POST' ? { operation: 'sessions/new', appId } : null;
  const op = /** @type {Record<string, [string, Operation]>} */ ({
    'tracks/new': ['POST', 'tracks/new'],
    'tracks/close': ['PUT', 'tracks/close'],
    'tracks/update': ['PUT', 'tracks/update'],
    renegotiate: ['PUT', 'renegotiate'],
  })[tail ?? ''];
  if (op) return method === op[0] ? { operation: op[1], appId, sessionId: session } : null;
  return !tail && method === 'GET' ? { operation: 'sessions/get', appId, sessionId: session } : null;
}

/** @typedef {'sessions/new' | 'tracks/new' | 'tracks/update' | 'renegotiate' | 'tracks/close' | 'sessions/get'} Operation */

/**
 * What is wrong with a request body for `operation`: one sentence per problem, empty when it
 * matches the documented shape. `body` is the parsed JSON, or undefined for no body.
 * @param {Operation} operation
 * @param {unknown} body
 * @returns {string[]}
 */
export function checkRequest(operation, body) {
  const problems = [];
  const say = (text) => problems.push(text);
  switch (operation) {
    case 'sessions/get':
      if (body !== undefined) say('GET sessions/{id} takes no body');
      break;
    case 'sessions/new':
      // "Calling POST /sessions/new with no request body returns a sessionId".
      if (body === undefined) break;
      if (!object(body, 'the body', say)) break;
      unknown(body, FIELDS.NewSessionRequest, 'NewSessionRequest', say);
      if (body.sessionDescription !== undefined) description(body.sessionDescription, 'sessionDescription', say, 'offer');
      break;
    case 'tracks/new':
    case 'tracks/update': {
      const schema = operation === 'tracks/new' ? 'TracksRequest' : 'UpdateTracksRequest';
      if (!object(body, 'the body', say)) break;
      unknown(body, FIELDS[schema], schema, say);
      const offer = body.sessionDescription;
      if (offer !== undefined) description(offer, 'sessionDescription', say, operation === 'tracks/new' ? 'offer' : undefined);
      if (body.autoDiscover !== undefined && typeof body.autoDiscover !== 'boolean') say('autoDiscover must be a boolean');
      const discover = body.autoDiscover === true;
      if (discover && offer === undefined) say('autoDiscover needs the offer whose tracks it names');
      if (body.tracks === undefined && discover) break;
      if (!Array.isArray(body.tracks) || body.tracks.length === 0) {
        say('tracks must be a non-empty array of TrackObject');
        break;
      }
      if (body.tracks.length > MAX_TRACKS_PER_CALL) say(`at most ${MAX_TRACKS_PER_CALL} tracks per call`);
      body.tracks.forEach((t, i) => track(t, `tracks[${i}]`, { hasOffer: offer !== undefined, update: operation === 'tracks/update' }, say));
      break;
    }
    case 'renegotiate':
      // "Submit a renegotiation answer": the endpoint answers the SFU's offer.
      if (!object(body, 'the body', say)) break;
      unknown(body, FIELDS.RenegotiateRequest, 'RenegotiateRequest', say);
      if (body.sessionDescription === undefined) say('sessionDescription (the answer) is missing');
      else description(body.sessionDescription, 'sessionDescription', say, 'answer');
      break;
    case 'tracks/close':
      if (!object(body, 'the body', say)) break;
      unknown(body, FIELDS.CloseTracksRequest, 'CloseTracksRequest', say);
      if (body.sessionDescription !== undefined) description(body.sessionDescription, 'sessionDescription', say, 'offer');
      if (body.force !== undefined && typeof body.force !== 'boolean') say('force must be a boolean');
      if (!Array.isArray(body.tracks) || body.tracks.length === 0) {
        say('tracks must be a non-empty array of CloseTrackObject');
        break;
      }
      body.tracks.forEach((t, i) => {
        if (!object(t, `tracks[${i}]`, say)) return;
        unknown(t, FIELDS.CloseTrackObject, `tracks[${i}] (CloseTrackObject)`, say);
        if (typeof t.mid !== 'string' || t.mid === '') say(`tracks[${i}].mid (the transceiver to close) is missing`);
      });
      break;
    default:
      say(`no such operation: ${operation}`);
  }
  return problems;
}

function object(value, name, say) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    say(`${name} must be a JSON object`);
    return false;
  }
  return true;
}

function unknown(value, fields, schema, say) {
  for (const key of Object.keys(value)) if (!fields.includes(key)) say(`unknown field ${JSON.stringify(key)} in ${schema}`);
}

function description(value, name, say, want) {
  if (!object(value, name, say)) return;
  unknown(value, FIELDS.SessionDescription, `${name} (SessionDescription)`, say);
  if (typeof value.sdp !== 'string' || value.sdp === '') say(`${name}.sdp is missing`);
  if (value.type !== 'offer' && value.type !== 'answer') say(`${name}.type must be "offer" or "answer"`);
  else if (want && value.type !== want) say(`${name}.type must be "${want}" here, not "${value.type}"`);
}

function track(t, name, { hasOffer, update }, say) {
  if (!object(t, name, say)) return;
  unknown(t, FIELDS.TrackObject, `${name} (TrackObject)`, say);
  for (const key of ['mid', 'sessionId', 'trackName', 'kind']) {
    if (t[key] !== undefined && typeof t[key] !== 'string') say(`${name}.${key} must be a string`);
  }
  if (t.bidirectionalMediaStream !== undefined && typeof t.bidirectionalMediaStream !== 'boolean') say(`${name}.bidirectionalMediaStream must be a boolean`);
  if (t.simulcast !== undefined && object(t.simulcast, `${name}.simulcast`, say)) {
    unknown(t.simulcast, FIELDS.Simulcast, `${name}.simulcast`, say);
    if (t.simulcast.fallbackStrategy !== undefined && !['auto', 'leastBandwidth', 'none'].includes(t.simulcast.fallbackStrategy)) {
      say(`${name}.simulcast.fallbackStrategy must be auto, leastBandwidth or none`);
    }
  }
  if (t.kind !== undefined && t.kind !== 'audio' && t.kind !== 'video') say(`${name}.kind must be "audio" or "video"`);
  if (t.location !== 'local' && t.location !== 'remote') {
    say(`${name}.location must be "local" or "remote"`);
    return;
  }
  if (typeof t.trackName !== 'string' || t.trackName === '') say(`${name}.trackName is missing`);
  if (update && (typeof t.mid !== 'string' || t.mid === '')) say(`${name}.mid (the transceiver to reuse) is missing`);
  if (t.location === 'local') {
    // "sessionId: ... It should be set for remote tracks only".
    if (t.sessionId !== undefined) say(`${name}.sessionId is for remote tracks only`);
    // A pushed track is the offer's transceiver `mid`; without an offer the SFU makes one and
    // "kind ... is required when the SFU generates the offer".
    if (hasOffer && (typeof t.mid !== 'string' || t.mid === '')) say(`${name}.mid (the offer's transceiver) is missing`);
    if (!hasOffer && !update && t.kind === undefined) say(`${name}.kind is required when the SFU generates the offer`);
  } else {
    if (typeof t.sessionId !== 'string' || t.sessionId === '') say(`${name}.sessionId (the track owner's session) is missing`);
  }
}
