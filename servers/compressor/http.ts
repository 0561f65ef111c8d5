/**
 * @module compressor/http
 * The compressor's internal HTTP interface. `POST /jobs/:id` answers at
 * once: 200 `{"state":"done"}` for a finished job, else it queues a
 * persistent compress request (confirmed by the broker) and says 202, so an
 * accepted job survives a compressor crash. `GET /healthz`: 200 with the broker.
 */
import { Hono } from "hono";
import { isId } from "../shared/ids.ts";
import type { Records } from "./records.ts";

export interface HttpDeps {
  records: Pick<Records, "get">;
  /** publishes the compress request; resolves once the broker confirmed it */
  request(jobId: string): Promise<void>;
  healthy(): boolean;
  /** how long to wait for the broker's confirm before answering 503 */
  confirmTimeoutMs?: number;
}

export function compressorApp(deps: HttpDeps): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => (deps.healthy() ? c.text("ok") : c.text("broker unreachable", 503)));
  app.post("/jobs/:id", async (c) => {
    const id = c.req.param("id");
    if (!isId(id)) return c.json({ error: "not a job id" }, 400);
    if (await deps.records.get(id)) return c.json({ state: "done" }, 200);
    const timeout = Bun.sleep(deps.confirmTimeoutMs ?? 10_000).then(() => "timeout" as const);
    const sent = deps.request(id).then(() => "queued" as const);
    if ((await Promise.race([sent, timeout])) === "timeout") return c.json({ error: "the broker did not confirm the request; try again" }, 503);
    return c.json({ state: "queued" }, 202);
  });
  app.notFound((c) => c.json({ error: "not found" }, 404));
  return app;
}
