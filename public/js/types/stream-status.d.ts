/**
 * @typedef {{ live: boolean, subscribers: number, since: number | null, mode: string }} StreamStatus
 * @typedef {{ ok: true, status: StreamStatus } | { ok: false, code: string, sentence: string }} StatusAnswer
 */
/**
 * Asks the server about the stream at `path` (a stream path as the page normalized it). A token
 * goes in the `Authorization` header of this request, never into a URL.
 * @param {string} path
 * @param {{ token?: string, fetchImpl?: typeof fetch, server?: string | URL }} [options] `server`:
 *   the service's origin, where this is not the page it served (Node.js, another site listed in
 *   its `ICE_CORS_ORIGINS`)
 * @returns {Promise<StatusAnswer>}
 */
export function fetchStreamStatus(path: string, { token, fetchImpl, server }?: {
    token?: string;
    fetchImpl?: typeof fetch;
    server?: string | URL;
}): Promise<StatusAnswer>;
/**
 * What a person is told about an answer, for the landing page's check.
 * @param {StatusAnswer} answer
 * @param {number} [now] ms since the epoch
 * @returns {string}
 */
export function describeStatus(answer: StatusAnswer, now?: number): string;
export type StreamStatus = {
    live: boolean;
    subscribers: number;
    since: number | null;
    mode: string;
};
export type StatusAnswer = {
    ok: true;
    status: StreamStatus;
} | {
    ok: false;
    code: string;
    sentence: string;
};
