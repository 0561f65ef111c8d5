/**
 * @module observe
 * What the cluster test watches: link events per job on the progress
 * exchange (through an exclusive queue of its own, as the observer role, on a
 * node that is never killed), the file host's live downloads, a compressor's
 * open partial archive, a part's log, the job's state as JSON.
 */
import amqp from "amqplib";
import { readdirSync, readlinkSync } from "node:fs";
import { loadConfig } from "../../servers/shared/config.ts";
import { brokerUrl } from "../../servers/shared/brokerauth.ts";
import { PROGRESS_EXCHANGE } from "../../servers/shared/topology.ts";
import { AMQP_PORT } from "./rabbitcluster.ts";
import { fileOrigin, sourceEnv, type Shared } from "./hosts.ts";

export interface LinkWatch {
  /** link events seen per job id */
  links: Map<string, number>;
  failed: Map<string, string>;
  close(): Promise<void>;
}

/** Counts `job.<id>.link` (and `.failed`) events, connected to the node at `nodeIp` only. */
export async function watchLinks(s: Shared, nodeIp: string): Promise<LinkWatch> {
  const c = loadConfig({ ...sourceEnv(s), AMQP_URL: `amqp://${nodeIp}:${AMQP_PORT}` });
  const conn = await amqp.connect(brokerUrl(c, "observer"));
  conn.on("error", () => {});
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue("", { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, PROGRESS_EXCHANGE, "job.*.link");
  await ch.bindQueue(queue, PROGRESS_EXCHANGE, "job.*.failed");
  const w: LinkWatch = { links: new Map(), failed: new Map(), close: async () => void (await conn.close().catch(() => {})) };
  await ch.consume(
    queue,
    (m) => {
      if (!m) return;
      const [, id, kind] = m.fields.routingKey.split(".");
      if (kind === "link") w.links.set(id!, (w.links.get(id!) ?? 0) + 1);
      else w.failed.set(id!, m.content.toString().slice(0, 300));
    },
    { noAck: true },
  );
  return w;
}

/** Bodies the file host is sending now, per client address. */
export async function fileHostActive(): Promise<Record<string, number>> {
  const r = await fetch(`${fileOrigin()}/_stats`, { signal: AbortSignal.timeout(2000) });
  return ((await r.json()) as { active: Record<string, number> }).active;
}

/** True if process `pid` has a file open under `dir` (a compressor writing a partial archive). */
export function hasOpenUnder(pid: number, dir: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(dir);
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

export interface JobJson {
  id: string;
  state: string;
  files: { index: number; state: string; name: string; error: string | null; bytes: number }[];
  link: string | null;
  error: string | null;
}

/** The job's state as JSON from web origin `web`, or null if that server does not answer. */
export async function jobJson(web: string, id: string): Promise<JobJson | null> {
  try {
    const r = await fetch(`${web}/jobs/${id}`, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(5000) });
    if (r.status !== 200) return null;
    return (await r.json()) as JobJson;
  } catch {
    return null;
  }
}

/** How often `words` occurs in `text`. */
export const count = (text: string, words: string) => text.split(words).length - 1;
