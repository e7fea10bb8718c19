// The Realtime SFU Connection API's bodies as the Worker relies on them, field for field from
// Cloudflare's OpenAPI schema (realtime-api-2024-05-21.yaml). Test support only: the stand-in
// checks every request against these, and the tests check what the Worker sends and answers.
// core/src/realtime.rs holds the same shapes for the Worker.
//
// A shape maps each field to its type: 'string', 'boolean', a nested shape, [shape] for an
// array of it, or a Set of allowed strings. `required` lists the fields that must be there;
// any field not named is an error.

const sessionDescription = {
  fields: { sdp: 'string', type: new Set(['offer', 'answer']) },
  required: ['sdp', 'type'],
};
const ordering = new Set(['none', 'asciibetical']);
const simulcast = { fields: { preferredRid: 'string', priorityOrdering: ordering, ridNotAvailable: ordering } };
const trackObject = {
  fields: {
    location: new Set(['local', 'remote']),
    mid: 'string',
    sessionId: 'string',
    trackName: 'string',
    bidirectionalMediaStream: 'boolean',
    kind: 'string',
    simulcast,
  },
};
const closeTrackObject = { fields: { mid: 'string' }, required: ['mid'] };

/** Request bodies, by operation. */
export const requests = {
  newSession: { fields: { sessionDescription } },
  tracksNew: { fields: { sessionDescription, tracks: [trackObject], autoDiscover: 'boolean' } },
  renegotiate: { fields: { sessionDescription } },
  tracksClose: {
    fields: { sessionDescription, tracks: [closeTrackObject], force: 'boolean' },
    required: ['tracks', 'force'],
  },
};

const errors = { errorCode: 'string', errorDescription: 'string' };
/** Response bodies, by operation. */
export const responses = {
  newSession: { fields: { sessionId: 'string', sessionDescription, ...errors }, required: ['sessionId'] },
  tracksNew: {
    fields: {
      ...errors,
      requiresImmediateRenegotiation: 'boolean',
      sessionDescription,
      tracks: [{ fields: { ...trackObject.fields, ...errors } }],
    },
  },
  renegotiate: { fields: { ...errors, sessionDescription } },
  tracksClose: {
    fields: {
      ...errors,
      sessionDescription,
      tracks: [{ fields: { ...closeTrackObject.fields, ...errors }, required: ['mid'] }],
      requiresImmediateRenegotiation: 'boolean',
    },
  },
};

/** The API paths under `/apps/{appId}/`, with their methods and operations. */
export const routes = [
  { method: 'POST', pattern: /^sessions\/new$/, op: 'newSession' },
  { method: 'POST', pattern: /^sessions\/([^/]+)\/tracks\/new$/, op: 'tracksNew' },
  { method: 'PUT', pattern: /^sessions\/([^/]+)\/renegotiate$/, op: 'renegotiate' },
  { method: 'PUT', pattern: /^sessions\/([^/]+)\/tracks\/close$/, op: 'tracksClose' },
];

/**
 * Every way `value` departs from `shape`, as sentences naming the field (empty when it fits).
 * @param {unknown} value
 * @param {{fields: object, required?: string[]}} shape
 * @param {string} [at]
 * @returns {string[]}
 */
export function violations(value, shape, at = 'body') {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at} is not an object`];
  const out = [];
  for (const name of shape.required ?? []) if (!(name in value)) out.push(`${at}.${name} is missing`);
  for (const [name, field] of Object.entries(value)) {
    const type = shape.fields[name];
    const where = `${at}.${name}`;
    if (type === undefined) out.push(`${where} is not a documented field`);
    else if (type instanceof Set) {
      if (!type.has(field)) out.push(`${where} is ${JSON.stringify(field)}, not one of ${[...type].join(', ')}`);
    } else if (Array.isArray(type)) {
      if (!Array.isArray(field)) out.push(`${where} is not an array`);
      else field.forEach((item, i) => out.push(...violations(item, type[0], `${where}[${i}]`)));
    } else if (typeof type === 'object') out.push(...violations(field, type, where));
    else if (typeof field !== type) out.push(`${where} is not a ${type}`);
  }
  return out;
}
