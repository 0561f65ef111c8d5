/**
 * @module watch
 * Follows a job's event stream (`/jobs/<id>/events?format=json`) until its
 * final `done`, reconnecting with `Last-Event-ID` if the stream drops (the
 * server resends the whole state, so nothing is missed). Calls `onJob` with
 * every new JobView and returns the final one.
 */
import type { JobView } from "../../servers/shared/jobstate.ts";
import { readSse, type SseEvent } from "./sse-reader.ts";

export class StreamLost extends Error {
  override name = "StreamLost";
}

export async function watchJob(base: string, id: string, onJob: (job: JobView) => void, opts: { attempts?: number; signal?: AbortSignal } = {}): Promise<JobView> {
  let lastId: string | null = null;
  let failures = 0;
  const attempts = opts.attempts ?? 8;
  for (;;) {
    let why = "the event stream ended before the job did";
    try {
      const r: Response = await fetch(`${base}/jobs/${id}/events?format=json`, {
        headers: { accept: "text/event-stream", ...(lastId ? { "last-event-id": lastId } : {}) },
        signal: opts.signal,
      });
      if (r.status === 404) throw new StreamLost(`job ${id} is unknown to ${base}`);
      if (r.status !== 200 || !r.body) throw new Error(`events: HTTP ${r.status}`);
      for await (const ev of readSse(r.body) as AsyncGenerator<SseEvent>) {
        if (ev.id) lastId = ev.id;
        if (ev.event === "job" || ev.event === "done") {
          failures = 0;
          const job = JSON.parse(ev.data) as JobView;
          onJob(job);
          if (ev.event === "done") return job;
        }
      }
    } catch (err) {
      if (err instanceof StreamLost || opts.signal?.aborted) throw err;
      why = (err as Error).message;
    }
    if (++failures >= attempts) throw new StreamLost(`lost the event stream: ${why}`);
    await Bun.sleep(Math.min(500 * 2 ** failures, 8000));
  }
}
