/**
 * @module linkpack
 * One linkpack job as the benchmark sees it: `POST /jobs`, wait for the
 * link event, fetch the archive through the signed link (curl into
 * /dev/null, like the baseline), and the per-phase timings from the events'
 * server timestamps.
 */
import type { FileEvent, JobEvent, LinkEvent } from "../../servers/shared/messages.ts";
import type { EventHub } from "./events.ts";
import { curlDiscard } from "./exec.ts";

/** Milliseconds spent in each phase of one job, from the servers' event timestamps. */
export interface Phases {
  /** POST /jobs sent → the first file's download began (web + broker + downloader pick-up): its first event, or the start its final event carries */
  queue: number;
  /** first file event → last file finished */
  download: number;
  /** last file finished → first compress event (downloader → compressor hand-off) */
  handoff: number;
  /** first compress event → link event (zip, move into nginx's folder, sign) */
  compress: number;
}

export interface LinkpackRun {
  id: string;
  /** POST sent → link event received, ms */
  linkMs: number;
  /** POST sent → archive fully fetched through the link, ms (absent when not fetched) */
  downloadedMs?: number;
  archiveBytes: number;
  entries: number;
  phases: Phases;
  /** number of progress events of the job */
  events: number;
}

export class SubmitFailed extends Error {
  override name = "SubmitFailed";
}

/** Submits `urls` as one job; returns its id. */
export async function submit(web: string, urls: string[]): Promise<string> {
  const r = await fetch(`${web}/jobs`, { method: "POST", headers: { "content-type": "text/plain" }, body: urls.join("\n") });
  if (r.status !== 202) throw new SubmitFailed(`POST /jobs: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { id: string }).id;
}

/** Phase timings from a job's events (server clocks, same machine). */
export function phases(sentEpoch: number, evs: JobEvent[]): Phases {
  const at = (p: (e: JobEvent) => boolean) => evs.filter(p).map((e) => e.at);
  const files = evs.filter((e): e is FileEvent => e.type === "file").map((e) => e.started ?? e.at);
  const finished = at((e) => e.type === "file" && ((e as FileEvent).state === "done" || (e as FileEvent).state === "failed"));
  const compress = at((e) => e.type === "compress");
  const link = at((e) => e.type === "link");
  const first = Math.min(...files), lastDone = Math.max(...finished), c0 = Math.min(...compress), l = Math.min(...link);
  return { queue: first - sentEpoch, download: lastDone - first, handoff: c0 - lastDone, compress: l - c0 };
}

/** Runs one job end to end; `fetch` false skips the archive download (throughput runs). */
export async function runJob(web: string, hub: EventHub, urls: string[], opts: { fetch: boolean; timeoutMs: number }): Promise<LinkpackRun> {
  const sentEpoch = Date.now();
  const t0 = performance.now();
  const id = await submit(web, urls);
  const { link, recv } = await hub.waitLink(id, opts.timeoutMs);
  let downloadedMs: number | undefined;
  if (opts.fetch) {
    const got = await curlDiscard(link.link);
    if (got.status !== 200 || got.bytes !== link.bytes) throw new Error(`link fetch: ${got.status}, ${got.bytes} of ${link.bytes} bytes`);
    downloadedMs = performance.now() - t0;
  }
  await Bun.sleep(20); // late events of this job (none expected after the link)
  const evs = hub.take(id);
  return checked(link, urls.length, {
    id,
    linkMs: recv - t0,
    downloadedMs,
    archiveBytes: link.bytes,
    entries: link.entries,
    phases: phases(sentEpoch, evs),
    events: evs.length,
  });
}

function checked(link: LinkEvent, expected: number, run: LinkpackRun): LinkpackRun {
  if (link.entries !== expected) throw new Error(`job ${run.id}: ${link.entries} entries in the archive, expected ${expected}`);
  return run;
}
