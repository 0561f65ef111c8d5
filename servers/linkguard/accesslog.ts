/**
 * @module accesslog
 * nginx's access log of link requests (its `guard` log_format), written to a
 * file the guard reads:
 *
 *   GET /d/<folder>/<job>.zip 206 1048576 <lease token>
 *
 * Only a line carrying a lease token the guard granted means anything (a
 * refused request, a HEAD or a line without a token changes nothing), so a
 * forged or stray line cannot free or use up a link.
 */
import type { Finished } from "./ledger.ts";

/** The log_format the nginx template declares; `parseLine` reads exactly this. */
export const LOG_FORMAT = "'$request_method $uri $status $body_bytes_sent $guard_lease'";

const LINE = /^([A-Z]+) (\/\S*) (\d{3}) (\d+) ([0-9a-f]{32})$/;

/** The finished GET a line reports, or null if it carries no lease (or is not a guard line). */
export function parseLine(line: string): (Finished & { path: string }) | null {
  const m = LINE.exec(line.trimEnd());
  if (!m || m[1] !== "GET") return null;
  return { path: m[2]!, status: Number(m[3]), bytes: Number(m[4]), token: m[5]! };
}
