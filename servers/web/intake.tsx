/**
 * @module intake
 * `POST /jobs`: read the list (bounded in size and time), check it (bounded
 * by MAX_URLS), then admit the job: the broker must be up, the download
 * queue must have room for its files, the disk must have room (507), and
 * the client must be under its limits (which the store checks as it
 * records the job). A browser's form
 * post gets the form again saying what was wrong, with the same status.
 */
import type { Context } from "hono";
import type { JobView } from "../shared/jobstate.ts";
import { HomePage } from "../../views/HomePage.tsx";
import type { WebDeps } from "./app.tsx";
import type { WebEnv } from "./conn.ts";
import { isForm, wantsJson } from "./negotiate.ts";
import { Refused } from "./refused.ts";
import { LimitReached } from "./store.ts";
import { checkUrls, InvalidRequest, linkTtl, readJobRequest, type Candidate } from "./urls.ts";

/** The link lifetimes the form offers: the default and the longest allowed. */
export const ttlChoice = (c: WebDeps["config"]) => ({ def: c.LINK_TTL_SECONDS, max: c.MAX_LINK_TTL_SECONDS });

/** Seconds a client at its unfinished-jobs limit is told to wait (no one can say when a job ends). */
const ACTIVE_RETRY_SECONDS = 10;
const BROKER_DOWN = "the broker is unreachable; try again in a moment";

export function postJobs(deps: WebDeps) {
  const { config } = deps;
  return async (c: Context<WebEnv>) => {
    const browser = isForm(c.req.raw) && !wantsJson(c.req.raw);
    let cands: Candidate[] = [];
    try {
      const asked = await readJobRequest(c.req.raw, config.MAX_BODY_BYTES, config.BODY_TIMEOUT_MS);
      cands = asked.candidates;
      const urls = checkUrls(cands, config.MAX_URLS);
      const ttl = linkTtl(asked.ttl, config.LINK_TTL_SECONDS, config.MAX_LINK_TTL_SECONDS);
      const job = await admit(deps, urls, ttl, c.var.client);
      const status_url = `/jobs/${job.id}`;
      if (browser) {
        if (c.req.header("hx-request")) {
          c.header("HX-Redirect", status_url);
          return c.body(null, 204);
        }
        return c.redirect(status_url, 303);
      }
      c.header("Location", status_url);
      return c.json({ id: job.id, status_url, events_url: `${status_url}/events` }, 202);
    } catch (err) {
      if (err instanceof InvalidRequest && !browser) return c.json({ error: err.message, invalid: err.invalid }, err.status);
      if (browser && (err instanceof InvalidRequest || err instanceof Refused)) return formAgain(c, deps, cands, err);
      throw err; // app.onError answers (JSON, with Retry-After)
    }
  };
}

/** The home form again, with the user's lines and what was wrong, under the error's status. */
function formAgain(c: Context<WebEnv>, deps: WebDeps, cands: Candidate[], err: InvalidRequest | Refused) {
  if (err instanceof Refused && err.retryAfterSeconds !== undefined) c.header("Retry-After", String(err.retryAfterSeconds));
  const invalid = err instanceof InvalidRequest ? err.invalid : [];
  const text = cands.map((x) => x.text).join("\n");
  return c.html(<HomePage maxUrls={deps.config.MAX_URLS} linkTtl={ttlChoice(deps.config)} urlsText={text} error={err.message} invalid={invalid} />, err.status);
}

async function admit(deps: WebDeps, urls: string[], ttl: number, client: string): Promise<JobView> {
  if (!deps.brokerUp()) throw new Refused(503, BROKER_DOWN, 5);
  const fits = deps.queue ? await deps.queue.fits(urls.length).catch(() => null) : true;
  if (fits === null) throw new Refused(503, BROKER_DOWN, 5);
  if (!fits) throw new Refused(503, "linkpack is busy: too many files are waiting; try again in a little while", 30);
  if (deps.disk && !(await deps.disk.hasRoom().catch(() => true)))
    throw new Refused(507, "linkpack is short of disk space and cannot take a new job now; try again later", 60);
  try {
    return await deps.createJob(urls, ttl, client);
  } catch (err) {
    if (err instanceof LimitReached) throw overLimit(err);
    throw err;
  }
}

function overLimit(err: LimitReached): Refused {
  if (err.limit === "active")
    return new Refused(429, `too many unfinished jobs: at most ${err.max} at a time from one address; try again when one has finished`, ACTIVE_RETRY_SECONDS);
  const s = Math.max(1, Math.ceil((err.retryAfterMs ?? 60_000) / 1000));
  return new Refused(429, `too many new jobs: at most ${err.max} per minute from one address; try again in ${s} s`, s);
}
