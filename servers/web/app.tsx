/**
 * @module app
 * The web server's routes (Hono): the API of docs/API.md and the pages.
 * Every request passes the Host check and the cross-site check first and is
 * told which client it counts against; every answer carries the security
 * headers. API clients get JSON; a browser gets pages. `app.onError`
 * renders every error the same way.
 */
import { Hono, type Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Config } from "../shared/config.ts";
import { idTime, isId } from "../shared/ids.ts";
import { tokenMatches } from "../shared/secrets.ts";
import { isFinal, type JobView } from "../shared/jobstate.ts";
import { HomePage } from "../../views/HomePage.tsx";
import { JobPage } from "../../views/JobPage.tsx";
import { identifyClient, isLoopback } from "./client.ts";
import type { WebEnv } from "./conn.ts";
import { postJobs, ttlChoice } from "./intake.tsx";
import { wantsJson } from "./negotiate.ts";
import { crossSiteCheck, hostCheck } from "./origin.ts";
import type { DiskRoom } from "./diskroom.ts";
import type { QueueDepth } from "./queuedepth.ts";
import { Refused } from "./refused.ts";
import { securityHeaders } from "./security.ts";
import type { JobStore } from "./store.ts";

export interface WebDeps {
  config: Config;
  store: Pick<JobStore, "get">;
  /** records and publishes a job of `client` whose link lives `ttl` seconds; throws `LimitReached` when the client is over a limit */
  createJob(urls: string[], ttl: number, client: string): Promise<JobView>;
  /** asks the compressor to cancel the job (a cancel request on the work exchange) */
  cancelJob?(id: string): Promise<void>;
  brokerUp(): boolean;
  /** room in the download queue (MAX_QUEUED_FILES); absent in unit tests: unbounded */
  queue?: Pick<QueueDepth, "fits">;
  /** free disk on the downloads and archives volumes (MIN_FREE_DISK_BYTES); absent in unit tests: room */
  disk?: Pick<DiskRoom, "hasRoom">;
  /** `GET /jobs/:id/events` (the SSE bridge); absent in unit tests */
  events?: (c: Context<WebEnv>, job: JobView, client: string) => Response | Promise<Response>;
  /** extra routes (static assets) */
  extend?: (app: Hono<WebEnv>) => void;
  /** `GET /metrics`, for this machine and holders of the internal token; absent in unit tests */
  metrics?: { token: string; respond(): Promise<Response> };
}

export function createApp(deps: WebDeps): Hono<WebEnv> {
  const { config, store } = deps;
  const app = new Hono<WebEnv>();
  app.use(securityHeaders(), hostCheck(config.ALLOWED_HOSTS), crossSiteCheck(config.WEB_PUBLIC_URL), identifyClient(config.TRUSTED_PROXIES));
  deps.extend?.(app);

  app.get("/healthz", (c) => (deps.brokerUp() ? c.text("ok") : c.text("broker unreachable", 503)));

  // The numbers of a public instance are not for everyone: this machine may read them (a request that came
  // through a proxy never counts as this machine), anyone else needs the internal token (Authorization: Bearer).
  app.get("/metrics", (c) => {
    const m = deps.metrics;
    if (!m) throw new HTTPException(404, { message: "not found" });
    const local = isLoopback(c.var.client) && c.req.header("x-forwarded-for") === undefined && c.req.header("forwarded") === undefined;
    if (!local && !tokenMatches(/^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1], m.token))
      throw new HTTPException(403, { message: "metrics are for this machine, or need the internal token" });
    return m.respond();
  });

  app.get("/", (c) => c.html(<HomePage maxUrls={config.MAX_URLS} linkTtl={ttlChoice(config)} />));

  app.post("/jobs", postJobs(deps));

  // A job past its retention is gone from the store: its id (which carries its creation time) says it expired.
  const loadJob = async (id: string): Promise<JobView> => {
    const job = isId(id) ? await store.get(id) : null;
    if (job) return job;
    if (isId(id) && idTime(id) + config.JOB_RETENTION_SECONDS * 1000 < Date.now()) throw new HTTPException(410, { message: "this job has expired" });
    throw new HTTPException(404, { message: "no such job" });
  };

  app.get("/jobs/:id", async (c) => {
    const job = await loadJob(c.req.param("id"));
    if (wantsJson(c.req.raw)) return c.json(job);
    return c.html(<JobPage job={job} />);
  });

  // Cancel: DELETE for API clients, a form post for the page (it works without JavaScript).
  const cancel = async (c: Context<WebEnv>) => {
    const job = await loadJob(c.req.param("id") ?? "");
    if (isFinal(job.state)) throw new HTTPException(409, { message: `this job has ended (${job.state}); there is nothing to cancel` });
    if (!deps.cancelJob || !deps.brokerUp()) throw new Refused(503, "the broker is unreachable; try again in a moment", 5);
    await deps.cancelJob(job.id);
    if (c.req.method === "POST" && !wantsJson(c.req.raw)) return c.redirect(`/jobs/${job.id}`, 303);
    return c.json({ id: job.id, state: "cancelling", status_url: `/jobs/${job.id}` }, 202);
  };
  app.delete("/jobs/:id", cancel);
  app.post("/jobs/:id/cancel", cancel);

  app.get("/jobs/:id/events", async (c) => {
    const job = await loadJob(c.req.param("id"));
    if (!deps.events) throw new HTTPException(501, { message: "events are not available" });
    return deps.events(c, job, c.var.client);
  });

  app.notFound((c) => (wantsJson(c.req.raw) ? c.json({ error: "not found" }, 404) : c.text("not found", 404)));

  app.onError((err, c) => {
    const status = err instanceof HTTPException ? err.status : 500;
    const message = err instanceof HTTPException ? err.message : "internal error";
    if (status === 500) console.error(err);
    if (err instanceof Refused && err.retryAfterSeconds !== undefined) c.header("Retry-After", String(err.retryAfterSeconds));
    if (wantsJson(c.req.raw) || !c.req.header("accept")?.includes("text/html")) return c.json({ error: message }, status);
    return c.html(<p class="error">{message}</p>, status);
  });

  return app;
}
