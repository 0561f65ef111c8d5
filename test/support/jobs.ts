/**
 * @module jobs
 * A job from the outside, as a user's client sees it: submit a URL list,
 * read the job's JSON, wait for it to end, fetch its link and read the zip.
 */
import { readdirSync } from "node:fs";
import { unzipSync } from "fflate";
import { FAILED_NAME, MANIFEST_NAME } from "../../servers/shared/names.ts";
import type { Config } from "../../servers/shared/config.ts";
import { isFinal, type JobView } from "../../servers/shared/jobstate.ts";
import { until } from "./wait.ts";

/** POSTs the URLs (as text or JSON); returns the new job's id. */
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

/** Waits until the job has ended (ready, failed or cancelled), and returns it. */
export async function waitFinal(web: string, id: string, ms = 90_000): Promise<JobView> {
  let last: JobView | null = null;
  return until(
    () => `job ${id} to end; it is ${last?.state}: ${JSON.stringify(last?.files.map((f) => f.state))}`,
    async () => {
      last = await getJob(web, id);
      return isFinal(last.state) && last;
    },
    ms,
  );
}

/** Downloads a link; returns status and body. */
export async function fetchLink(link: string, init?: RequestInit): Promise<{ status: number; body: Uint8Array; headers: Headers }> {
  const r = await fetch(link, init);
  return { status: r.status, body: new Uint8Array(await r.arrayBuffer()), headers: r.headers };
}

/** The downloaded files in a zip, by entry name (without the archive's own MANIFEST.sha256 and FAILED.txt). */
export function entries(zip: Uint8Array): Record<string, Uint8Array> {
  const all = unzipSync(zip);
  delete all[MANIFEST_NAME];
  delete all[FAILED_NAME];
  return all;
}

/** Every entry of a zip by name, the archive's own included. */
export const allEntries = (zip: Uint8Array): Record<string, Uint8Array> => unzipSync(zip);

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

/** The archives of job `id` in nginx's folder (one while it waits for its download, none once burned). */
export const archivesOf = (config: Config, id: string): string[] =>
  readdirSync(config.ARCHIVES_DIR, { recursive: true }).map(String).filter((p) => p.endsWith(`${id}.zip`));
