/**
 * @module urls
 * Reads the URL list of `POST /jobs` in any of the contract's encodings and
 * checks every line. Errors are per line (`InvalidLine`) so the user sees
 * exactly which URL is wrong and why.
 */
const MAX_LINE_CHARS = 2000;
/** Most invalid lines one answer lists: enough to fix a list, few enough that the answer stays small. */
export const MAX_REPORTED = 50;
/** How much of a bad line an answer echoes back. */
export const SHOWN_URL_CHARS = 300;

export interface InvalidLine {
  line: number;
  url: string;
  reason: string;
}

/** A request that cannot become a job; `status` is the HTTP status to answer with. */
export class InvalidRequest extends Error {
  override name = "InvalidRequest";
  constructor(message: string, readonly invalid: InvalidLine[] = [], readonly status: 400 | 408 | 413 | 415 = 400) {
    super(message);
  }
}

/** One candidate URL with its 1-based line number in what the user sent. */
export interface Candidate {
  line: number;
  text: string;
}

/** Splits a one-URL-per-line text, skipping blank lines and `#` comments. */
export function linesOf(text: string, firstLine = 1): Candidate[] {
  return text
    .split(/\r\n|\r|\n/)
    .map((raw, i) => ({ line: firstLine + i, text: raw.trim() }))
    .filter((c) => c.text !== "" && !c.text.startsWith("#"));
}

/** Why `text` is not an acceptable URL, or null if it is. */
export function urlProblem(text: string): string | null {
  if (text.length > MAX_LINE_CHARS) return `longer than ${MAX_LINE_CHARS} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(text)) return "contains control characters";
  if (/\s/.test(text)) return "contains spaces (encode them as %20)";
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1];
  if (!scheme) return "not an absolute URL (it must start with http:// or https://)";
  if (!/^https?$/i.test(scheme)) return `"${scheme.toLowerCase()}:" URLs are not allowed, only http and https`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return "not a valid URL";
  }
  if (!/^\/\//.test(text.slice(scheme.length + 1))) return "not an absolute URL (it must start with http:// or https://)";
  if (!u.hostname) return "has no host name";
  return null;
}

/**
 * Checks the candidates: at least one, at most `maxUrls`, each a valid
 * absolute http(s) URL (`problem` says why not; tests count its calls).
 * Returns the URLs in order or throws `InvalidRequest` listing at most
 * `MAX_REPORTED` bad lines. A list over `maxUrls` is refused before any line
 * is looked at, so the work is bounded by `maxUrls` whatever the body holds.
 */
export function checkUrls(cands: Candidate[], maxUrls: number, problem: (text: string) => string | null = urlProblem): string[] {
  if (cands.length === 0) throw new InvalidRequest("no URL given: send one http(s) URL per line");
  if (cands.length > maxUrls) throw new InvalidRequest(`too many URLs: ${cands.length}, at most ${maxUrls} per job`);
  const invalid: InvalidLine[] = [];
  let bad = 0;
  for (const c of cands) {
    const reason = problem(c.text);
    if (reason && bad++ < MAX_REPORTED) invalid.push({ line: c.line, url: c.text.slice(0, SHOWN_URL_CHARS), reason });
  }
  if (bad === 0) return cands.map((c) => c.text);
  const more = bad > MAX_REPORTED ? ` (the first ${MAX_REPORTED} are listed, and ${bad - MAX_REPORTED} more)` : "";
  throw new InvalidRequest(`${bad} of ${cands.length} lines are not valid http(s) URLs${more}`, invalid);
}

/** What a `POST /jobs` asks for: its URL lines, and the link's lifetime if it chose one. */
export interface JobRequest {
  candidates: Candidate[];
  /** `ttl_seconds` as sent (JSON, a form field or the query), not checked yet; null when absent */
  ttl: unknown;
}

/**
 * Reads the body of `POST /jobs` by content type, bounded to `maxBytes` and
 * to `timeoutMs` for the whole body (a client that stalls or trickles gets 408).
 */
export async function readJobRequest(req: Request, maxBytes: number, timeoutMs: number): Promise<JobRequest> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new InvalidRequest(`request body too large: at most ${maxBytes} bytes`, [], 413);
  const known = ["text/plain", "application/json", "application/x-www-form-urlencoded", "multipart/form-data"];
  if (!known.includes(type))
    throw new InvalidRequest(`unsupported content type "${type || "none"}": send text/plain (one URL per line), application/json ({"urls": [...]}) or a form`, [], 415);
  const body = await readBounded(req, maxBytes, timeoutMs);
  const query = new URL(req.url).searchParams.get("ttl_seconds");
  if (type === "text/plain") return { candidates: linesOf(new TextDecoder().decode(body)), ttl: query };
  if (type === "application/json") return jsonRequest(new TextDecoder().decode(body), query);
  const form = await new Response(body as Uint8Array<ArrayBuffer>, { headers: { "content-type": req.headers.get("content-type")! } }).formData();
  const out = linesOf(String(form.get("urls") ?? ""));
  let n = out.length ? out[out.length - 1]!.line : 0;
  for (const v of form.getAll("url")) {
    const t = String(v).trim();
    n++;
    if (t) out.push({ line: n, text: t });
  }
  return { candidates: out, ttl: form.get("ttl_seconds") ?? query };
}

/** Shortest link lifetime a job may ask for. */
const MIN_TTL_SECONDS = 60;

/** The link lifetime a job gets: what it asked for (whole seconds, at least a minute) capped at `max`, or `def`. */
export function linkTtl(asked: unknown, def: number, max: number): number {
  if (asked === null || asked === undefined || asked === "") return Math.min(def, max);
  const n = typeof asked === "number" ? asked : typeof asked === "string" && /^\d+$/.test(asked.trim()) ? Number(asked) : NaN;
  if (!Number.isSafeInteger(n) || n < MIN_TTL_SECONDS)
    throw new InvalidRequest(`ttl_seconds must be a whole number of seconds, at least ${MIN_TTL_SECONDS} (the link's lifetime; at most ${max})`);
  return Math.min(n, max);
}

function jsonRequest(text: string, query: string | null): JobRequest {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new InvalidRequest('the body is not valid JSON: send {"urls": ["https://...", ...]}');
  }
  const ttl = (v as { ttl_seconds?: unknown } | null)?.ttl_seconds ?? query;
  return { candidates: jsonCandidates(v), ttl };
}

function jsonCandidates(v: unknown): Candidate[] {
  const urls = (v as { urls?: unknown } | null)?.urls;
  if (typeof v !== "object" || v === null || Array.isArray(v) || !Array.isArray(urls))
    throw new InvalidRequest('JSON must be an object with a "urls" array: {"urls": ["https://...", ...]}');
  const bad = urls.findIndex((u) => typeof u !== "string");
  if (bad >= 0) throw new InvalidRequest(`"urls" must hold strings only; item ${bad + 1} is ${JSON.stringify(urls[bad])?.slice(0, 50)}`);
  return (urls as string[]).map((u, i) => ({ line: i + 1, text: u.trim() })).filter((c) => c.text !== "");
}

async function readBounded(req: Request, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  let timer: Timer | undefined;
  const late = new Promise<never>((_, reject) => {
    const message = `the request body did not arrive within ${timeoutMs / 1000} s: send it all at once`;
    timer = setTimeout(() => reject(new InvalidRequest(message, [], 408)), timeoutMs);
  });
  try {
    const chunks: Uint8Array[] = [];
    let n = 0;
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), late]);
      if (done) return Buffer.concat(chunks);
      n += value.length;
      if (n > maxBytes) throw new InvalidRequest(`request body too large: at most ${maxBytes} bytes`, [], 413);
      chunks.push(value);
    }
  } catch (err) {
    reader.cancel().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
