/**
 * The API a request calls, as GreenLake limits it: the path with its ID segments generalised, so
 * `/devices/v1/devices/A` and `/devices/v1/devices/B` share one budget while `/identity/v1/users`
 * has its own. Pure and allocation-free for paths without IDs: it runs on every request.
 */

/** What an ID segment becomes. */
export const ID_SEGMENT = '{id}';

/** Hex letters and digits in a row from this many on: long hex and UUIDs (DSCC, workspaces, tasks). */
const HEX_ID_FROM = 12;
/** Lower-case letters and digits from this many on: random IDs, never a path word. */
const LONG_ID_FROM = 20;

/** The path without its query, each ID segment replaced by `{id}`; the same string when there is none. */
export function generalisePath(pathAndQuery: string): string {
  const queryAt = pathAndQuery.indexOf('?');
  const end = queryAt === -1 ? pathAndQuery.length : queryAt;
  let out = '';
  let copiedTo = 0;
  let start = 0;
  while (start <= end) {
    let stop = pathAndQuery.indexOf('/', start);
    if (stop === -1 || stop > end) stop = end;
    if (isIdSegment(pathAndQuery, start, stop)) {
      out += pathAndQuery.slice(copiedTo, start) + ID_SEGMENT;
      copiedTo = stop;
    }
    start = stop + 1;
  }
  if (copiedTo === 0) return queryAt === -1 ? pathAndQuery : pathAndQuery.slice(0, end);
  return out + pathAndQuery.slice(copiedTo, end);
}

/**
 * GreenLake's path words are lower case, with hyphens and at most a few digits (`v1`, `oauth2`,
 * `device-type1`). Anything else is a value: numbers, hex and UUIDs, serial and product numbers
 * (`P07595-B21+MXQ1140XVX`, `7CE751P312`), percent-encoded or `+`-joined text, long random IDs.
 */
export function isIdSegment(path: string, start: number, stop: number): boolean {
  const length = stop - start;
  if (length === 0) return false;
  let digits = 0;
  let upper = 0;
  let hex = 0;
  let hyphens = 0;
  for (let i = start; i < stop; i++) {
    const c = path.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) {
      if (c <= 0x66) hex++;
    } else if (c >= 0x30 && c <= 0x39) digits++;
    else if (c >= 0x41 && c <= 0x5a) {
      upper++;
      if (c <= 0x46) hex++;
    } else if (c === 0x2d) hyphens++;
    // `_`, `.`, `~` are word characters; `%`, `+`, `:`, `@`, `;`, `,`, `=` never appear in a path word.
    else if (c !== 0x5f && c !== 0x2e && c !== 0x7e) return true;
  }
  if (digits === 0) return false;
  if (digits === length) return true;
  if (digits + hex + hyphens === length && digits + hex >= HEX_ID_FROM) return true;
  return upper > 0 || length >= LONG_ID_FROM;
}
