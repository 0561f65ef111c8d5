/** Helpers for end-to-end tests: submit a job, wait for it, fetch and read its archive, watch its events. */
import amqp, { type Channel, type ChannelModel } from "amqplib";
import { unzipSync } from "fflate";
import type { Config } from "../../servers/shared/config.ts";
import { brokerUrl } from "../../servers/shared/brokerauth.ts";
import type { JobView } from "../../servers/shared/jobstate.ts";
import { parseProgressEvent, type ProgressEvent } from "../../servers/shared/messages.ts";
import { PROGRESS_EXCHANGE, WORK_EXCHANGE } from "../../servers/shared/topology.ts";
import type { Fixtures } from "../fixtures.ts";
import { photoSet, type Photo } from "../../scripts/lib/textgen.ts";

let photos: Photo[] | null = null;
/** The 10 test photos (generated once per run). */
export function photosOnce(): Photo[] {
  return (photos ??= photoSet());
}

/** Serves the photos under a unique prefix; returns their URLs in order. */
export function servePhotos(fixtures: Fixtures, prefix: string): string[] {
  return photosOnce().map((p) => fixtures.route(`/${prefix}/${p.name}`, p.bytes, p.type));
}

export async function submit(web: string, urls: string[], how: "text" | "json" = "text"): Promise<string> {
  const r = await fetch(`${web}/jobs`, {
    method: "POST",
    headers: { "content-type": how === "text" ? "text/plain" : "application/json" },
    body: how === "text" ? urls.join("\n") : JSON.stringify({ urls }),
  });
  if (r.status !== 202) throw new Error(`POST /jobs: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { id: string }).id;
}

export async function getJob(web: string, id: string): Promise<JobView> {
  const r = await fetch(`${web}/jobs/${id}`, { headers: { accept: "application/json" } });
  if (r.status !== 200) throw new Error(`GET /jobs/${id}: ${r.status}`);
  return (await r.json()) as JobView;
}

/** Polls the job until it is ready or failed (or `ms` pass). */
export async function waitFinal(web: string, id: string, ms = 90_000): Promise<JobView> {
  const end = Date.now() + ms;
  for (;;) {
    const job = await getJob(web, id);
    if (job.state === "ready" || job.state === "failed") return job;
    if (Date.now() > end) throw new Error(`job ${id} still ${job.state} after ${ms} ms: ${JSON.stringify(job.files.map((f) => f.state))}`);
    await Bun.sleep(200);
  }
}

/** Downloads a link; returns status and body. */
export async function fetchLink(link: string, init?: RequestInit): Promise<{ status: number; body: Uint8Array; headers: Headers }> {
  const r = await fetch(link, init);
  return { status: r.status, body: new Uint8Array(await r.arrayBuffer()), headers: r.headers };
}

/** Entries of a zip by name. */
export function entries(zip: Uint8Array): Record<string, Uint8Array> {
  return unzipSync(zip);
}

/** `unzip -t` on the bytes; returns its exit code and output. */
export async function unzipTest(zip: Uint8Array): Promise<{ code: number; out: string }> {
  const path = `/tmp/linkpack-unzip-${crypto.randomUUID()}.zip`;
  await Bun.write(path, zip);
  const p = Bun.spawn(["unzip", "-t", path], { stdout: "pipe", stderr: "pipe" });
  const out = (await new Response(p.stdout).text()) + (await new Response(p.stderr).text());
  const code = await p.exited;
  await Bun.file(path).delete();
  return { code, out };
}

/** Collects every progress event with a routing key matching `pattern` until `close()`. */
export async function watch(config: Config, pattern: string): Promise<{ events: { key: string; ev: ProgressEvent }[]; close(): Promise<void> }> {
  const conn: ChannelModel = await amqp.connect(brokerUrl(config, "observer"));
  const ch: Channel = await conn.createChannel();
  const { queue } = await ch.assertQueue("", { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, PROGRESS_EXCHANGE, pattern);
  const events: { key: string; ev: ProgressEvent }[] = [];
  await ch.consume(queue, (m) => m && events.push({ key: m.fields.routingKey, ev: parseProgressEvent(m.content) }), { noAck: true });
  return { events, close: () => conn.close().catch(() => {}) };
}

/** Publishes `msg` on the work exchange with `routingKey`, as any holder of broker credentials could. */
export async function publishWork(config: Config, routingKey: string, msg: object): Promise<void> {
  const conn = await amqp.connect(brokerUrl(config, "tester"));
  try {
    const ch = await conn.createConfirmChannel();
    await new Promise<void>((resolve, reject) => ch.publish(WORK_EXCHANGE, routingKey, Buffer.from(JSON.stringify(msg)), { persistent: true }, (err) => (err ? reject(err) : resolve())));
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Waits until `RUN_DIR/logs/<part>.log` has a line containing every one of `parts`. */
export async function waitForLog(config: Config, part: string, parts: string[], ms = 30_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const text = await Bun.file(`${config.RUN_DIR}/logs/${part}.log`).text().catch(() => "");
    const line = text.split("\n").find((l) => parts.every((p) => l.includes(p)));
    if (line) return line;
    if (Date.now() > end) throw new Error(`no line with ${JSON.stringify(parts)} in ${part}.log after ${ms} ms`);
    await Bun.sleep(50);
  }
}
