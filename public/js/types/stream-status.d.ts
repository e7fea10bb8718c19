/**
 * @typedef {{ live: boolean, subscribers: number, since: number | null, mode: string }} StreamStatus
 * @typedef {{ ok: true, status: StreamStatus } | { ok: false, code: string, sentence: string }} StatusAnswer
 */
/**
 * Asks the server about the stream at `path` (a stream path as the page normalized it). A token
 * goes in the `Authorization` header of this same-origin request, never into a URL.
 * @param {string} path
 * @param {{ token?: string, fetchImpl?: typeof fetch }} [options]
 * @returns {Promise<StatusAnswer>}
 */
export function fetchStreamStatus(path: string, { token, fetchImpl }?: {
    token?: string;
    fetchImpl?: typeof fetch;
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
