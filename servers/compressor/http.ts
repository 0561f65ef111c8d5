/**
 * @module compressor/http
 * The compressor's internal HTTP interface; only callers holding the
 * internal token get in (403 otherwise). `POST /jobs/:id` with
 * `{"total": <file count>}` answers at once: 200 `{"state":"done"}` for a
 * finished job; 409 while not every file of the job is accounted for (no
 * archive is ever built from part of a job); else it queues a persistent
 * compress request (confirmed by the broker) and says 202, so an accepted
 * job survives a compressor crash. `GET /healthz`: 200 with the broker.
 */
import { Hono } from "hono";
import { isId } from "../shared/ids.ts";
import { TOKEN_HEADER, tokenMatches } from "../shared/secrets.ts";
import { metricsResponse, type Metrics } from "../shared/metrics.ts";
import type { FinishedJobs } from "../shared/finishedjobs.ts";

export interface HttpDeps {
  records: Pick<FinishedJobs, "has">;
  token: string;
  /** whether every file of the job has an outcome (its count as the caller says) */
  accountedFor(jobId: string, total: number): Promise<boolean>;
  /** publishes the compress request; resolves once the broker confirmed it */
  request(jobId: string, total: number): Promise<void>;
  healthy(): boolean;
  /** `GET /metrics` (internal port, no token) */
  metrics?: Metrics;
  /** how long to wait for the broker's confirm before answering 503 */
  confirmTimeoutMs?: number;
}

async function fileCount(req: Request): Promise<number | null> {
  try {
    const body = (await req.json()) as { total?: unknown };
    return Number.isSafeInteger(body?.total) && (body.total as number) > 0 ? (body.total as number) : null;
  } catch {
    return null;
  }
}

export function compressorApp(deps: HttpDeps): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => (deps.healthy() ? c.text("ok") : c.text("broker unreachable", 503)));
  if (deps.metrics) {
    const m = deps.metrics;
    app.get("/metrics", () => metricsResponse(m));
  }
  app.use("/jobs/*", async (c, next) => {
    if (!tokenMatches(c.req.header(TOKEN_HEADER), deps.token)) return c.json({ error: "forbidden" }, 403);
    await next();
  });
  app.post("/jobs/:id", async (c) => {
    const id = c.req.param("id");
    if (!isId(id)) return c.json({ error: "not a job id" }, 400);
    if (await deps.records.has(id)) return c.json({ state: "done" }, 200);
    const total = await fileCount(c.req.raw);
    if (total === null) return c.json({ error: 'send {"total": <number of files>}' }, 400);
    if (!(await deps.accountedFor(id, total))) return c.json({ error: "not every file of this job is accounted for yet" }, 409);
    const timeout = Bun.sleep(deps.confirmTimeoutMs ?? 10_000).then(() => "timeout" as const);
    const sent = deps.request(id, total).then(() => "queued" as const);
    if ((await Promise.race([sent, timeout])) === "timeout") return c.json({ error: "the broker did not confirm the request; try again" }, 503);
    return c.json({ state: "queued" }, 202);
  });
  app.notFound((c) => c.json({ error: "not found" }, 404));
  return app;
}
