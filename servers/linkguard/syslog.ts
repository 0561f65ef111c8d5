/**
 * @module syslog
 * Reads the lines nginx sends for the link location (its `guard` log_format,
 * over syslog): `<PRI>Mmm dd hh:mm:ss linkpack: GET /d/<f>/<j>.zip 200 "OK" 1234 <lease>`,
 * and decides what each means for the link's lease.
 */

export interface AccessLine {
  method: string;
  path: string;
  status: number;
  /** nginx's $request_completion: the whole response went out */
  completed: boolean;
  bytes: number;
  /** the lease token the guard granted this request: null if none, undefined if the line has no such field */
  lease: string | null | undefined;
}

const MESSAGE = /^([A-Z]+) (\/\S*) (\d{3}) "(OK|)" (\d+)(?: (\S*))?$/;

/** Parses one syslog datagram (or a bare message); null if it is not a guard line. */
export function parseAccessLine(datagram: string): AccessLine | null {
  let text = datagram.replace(/[\r\n]+$/, "");
  const tag = text.indexOf("linkpack: ");
  if (text.startsWith("<")) {
    if (tag < 0) return null;
    text = text.slice(tag + "linkpack: ".length);
  }
  const m = MESSAGE.exec(text);
  if (!m) return null;
  // An unset variable logs as "-", an empty one (the guard sent no token) as nothing.
  const lease = m[6] === undefined ? undefined : m[6] === "-" || m[6] === "" ? null : m[6];
  return { method: m[1]!, path: m[2]!, status: Number(m[3]), completed: m[4] === "OK", bytes: Number(m[5]), lease };
}

export type Verdict = "used" | "release" | "ignore";

/**
 * What a finished request means. Only a GET the guard leased (its line
 * carries the lease token) changes anything: a whole 200 uses the link up,
 * anything else (cut off, 404...) frees that very lease. Lines without a
 * token (refused by secure_link, HEAD) change nothing, so they never free
 * someone else's lease. A line from a log format without the token field
 * counts a whole GET 200 as used and a cut-off GET 200 as a release.
 */
export function verdict(line: AccessLine): Verdict {
  if (line.method !== "GET" || line.lease === null) return "ignore";
  if (line.status === 200 && line.completed) return "used";
  if (line.lease === undefined && line.status !== 200) return "ignore";
  return "release";
}
