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
  /** link events seen per job id: distinct messages (a publish the broker nacked and got again is one message, delivered twice) */
  links: Map<string, number>;
  /** link deliveries, duplicates included */
  linkDeliveries: number;
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
  const w: LinkWatch = { links: new Map(), linkDeliveries: 0, failed: new Map(), close: async () => void (await conn.close().catch(() => {})) };
  const seen = new Set<string>();
  await ch.consume(
    queue,
    (m) => {
      if (!m) return;
      const [, id, kind] = m.fields.routingKey.split(".");
      if (kind === "link") {
        w.linkDeliveries++;
        const messageId = m.properties.messageId ? String(m.properties.messageId) : null;
        if (messageId !== null && seen.has(messageId)) return;
        if (messageId !== null) seen.add(messageId);
        w.links.set(id!, (w.links.get(id!) ?? 0) + 1);
      }
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

/** The broker nodes (`address:port`) a part's log says it connected to, with when (epoch ms), in order. */
export function brokerConnects(log: string): { at: number; node: string }[] {
  return [...log.matchAll(/^(\S+) info  \S+ broker connected node=(\S+)/gm)].map((m) => ({ at: Date.parse(m[1]!), node: m[2]! }));
}

/**
 * Of the parts whose logs are in `logs`, those on node `victim` (address)
 * when it was killed at `killedAt`, and whether each connected to another
 * node afterwards (its failover).
 */
export function failoversFrom(logs: Record<string, string>, victim: string, killedAt: number): { part: string; movedTo: string | null }[] {
  const out: { part: string; movedTo: string | null }[] = [];
  for (const [part, text] of Object.entries(logs)) {
    const connects = brokerConnects(text);
    const before = connects.filter((c) => c.at <= killedAt).at(-1);
    if (!before || !before.node.startsWith(`${victim}:`)) continue;
    const after = connects.find((c) => c.at > killedAt && !c.node.startsWith(`${victim}:`));
    out.push({ part, movedTo: after?.node ?? null });
  }
  return out;
}
