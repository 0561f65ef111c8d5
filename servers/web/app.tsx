/**
 * @module app
 * The web server's routes (Hono): the API of CONTRACT.md and the pages.
 * API clients get JSON; a browser's form post gets a redirect (or the form
 * again with its errors). Every answer carries the security headers.
 * `app.onError` renders every error the same way.
 */
import { Hono, type Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Config } from "../shared/config.ts";
import { isId } from "../shared/ids.ts";
import type { JobView } from "../shared/jobstate.ts";
import { HomePage } from "../../views/HomePage.tsx";
import { JobPage } from "../../views/JobPage.tsx";
import { securityHeaders } from "./security.ts";
import type { JobStore } from "./store.ts";
import { checkUrls, InvalidRequest, readCandidates, type Candidate } from "./urls.ts";

export interface WebDeps {
  config: Config;
  store: JobStore;
  createJob(urls: string[]): Promise<JobView>;
  brokerUp(): boolean;
  /** `GET /jobs/:id/events` (the SSE bridge); absent in unit tests */
  events?: (c: Context, job: JobView) => Response | Promise<Response>;
  /** extra routes (static assets) */
  extend?: (app: Hono) => void;
}

const isForm = (req: Request) => /^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(req.headers.get("content-type") ?? "");
const wantsJson = (req: Request) => {
  const a = req.headers.get("accept") ?? "";
  return a.includes("application/json") && !a.includes("text/html");
};

export function createApp(deps: WebDeps): Hono {
  const { config, store } = deps;
  const app = new Hono();
  app.use(securityHeaders());
  deps.extend?.(app);

  app.get("/healthz", (c) => (deps.brokerUp() ? c.text("ok") : c.text("broker unreachable", 503)));

  app.get("/", (c) => c.html(<HomePage maxUrls={config.MAX_URLS} />));

  app.post("/jobs", async (c) => {
    const browser = isForm(c.req.raw) && !wantsJson(c.req.raw);
    let cands: Candidate[] = [];
    try {
      cands = await readCandidates(c.req.raw, config.MAX_BODY_BYTES);
      const urls = checkUrls(cands, config.MAX_URLS);
      if (!deps.brokerUp()) throw new HTTPException(503, { message: "the broker is unreachable; try again in a moment" });
      const job = await deps.createJob(urls);
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
      if (!(err instanceof InvalidRequest)) throw err;
      if (browser)
        return c.html(<HomePage maxUrls={config.MAX_URLS} urlsText={cands.map((x) => x.text).join("\n")} error={err.message} invalid={err.invalid} />, err.status);
      return c.json({ error: err.message, invalid: err.invalid }, err.status);
    }
  });

  const loadJob = (id: string): JobView => {
    const job = isId(id) ? store.get(id) : null;
    if (!job) throw new HTTPException(404, { message: "no such job" });
    return job;
  };

  app.get("/jobs/:id", (c) => {
    const job = loadJob(c.req.param("id"));
    if (wantsJson(c.req.raw)) return c.json(job);
    return c.html(<JobPage job={job} />);
  });

  app.get("/jobs/:id/events", (c) => {
    const job = loadJob(c.req.param("id"));
    if (!deps.events) throw new HTTPException(501, { message: "events are not available" });
    return deps.events(c, job);
  });

  app.notFound((c) => (wantsJson(c.req.raw) ? c.json({ error: "not found" }, 404) : c.text("not found", 404)));

  app.onError((err, c) => {
    const status = err instanceof HTTPException ? err.status : 500;
    const message = err instanceof HTTPException ? err.message : "internal error";
    if (status === 500) console.error(err);
    if (wantsJson(c.req.raw) || !c.req.header("accept")?.includes("text/html")) return c.json({ error: message }, status);
    return c.html(<p class="error">{message}</p>, status);
  });

  return app;
}
