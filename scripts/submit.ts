/**
 * `bun run submit FILE` (or `-` for stdin): sends a URL list to linkpack,
 * shows per-file progress, the downloads and the zip bar from the same event
 * stream the page uses, then prints the link. Exit 0 when the job is ready,
 * 1 when it failed or was cancelled, 2 for a rejected list or bad arguments.
 *
 *   bun run submit urls.txt
 *   cat urls.txt | bun run submit - --url http://127.0.0.1:3000
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../servers/shared/config.ts";
import type { JobView } from "../servers/shared/jobstate.ts";
import { countdown } from "../views/format.ts";
import { jobLines, lineKeys } from "./submit/bars.ts";
import { watchJob } from "./submit/watch.ts";

const USAGE = "usage: bun run submit FILE|- [--url http://HOST:PORT]";

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { url: { type: "string" }, help: { type: "boolean", short: "h" } } });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.values.help || args.positionals.length !== 1) {
    console.error(USAGE);
    return args.values.help ? 0 : 2;
  }
  const config = loadConfig();
  const base = (args.values.url ?? `http://${config.HOST}:${config.PORT}`).replace(/\/+$/, "");
  const src = args.positionals[0]!;
  const text = src === "-" ? await Bun.stdin.text() : await Bun.file(src).text().catch(() => null);
  if (text === null) {
    console.error(`cannot read ${src}`);
    return 2;
  }

  let r: Response;
  try {
    r = await fetch(`${base}/jobs`, { method: "POST", body: text, headers: { "content-type": "text/plain; charset=utf-8", accept: "application/json" } });
  } catch (err) {
    console.error(`cannot reach linkpack at ${base}: ${(err as Error).message} (is it running? bun run start)`);
    return 1;
  }
  const body = (await r.json().catch(() => ({}))) as { id?: string; error?: string; invalid?: { line: number; url: string; reason: string }[] };
  if (r.status !== 202 || !body.id) {
    console.error(`rejected (HTTP ${r.status}): ${body.error ?? "no details"}`);
    for (const i of body.invalid ?? []) console.error(`  line ${i.line}: ${i.url} — ${i.reason}`);
    return r.status === 400 || r.status === 413 || r.status === 415 ? 2 : 1;
  }
  const id = body.id;
  console.log(`job ${id}: ${base}/jobs/${id}`);

  const out = process.stdout;
  const tty = out.isTTY === true;
  let drawn = 0;
  let keys: string[] = [];
  const draw = (job: JobView) => {
    // A TTY line must not wrap (the redraw counts lines); a log keeps everything.
    const lines = jobLines(job, tty ? out.columns || 100 : 400);
    if (tty) {
      // Redraw in place: up to the first line of the last drawing, rewrite every line.
      let s = drawn ? `\x1b[${drawn}A` : "";
      for (const l of lines) s += `\r\x1b[2K${l}\n`;
      out.write(s);
      drawn = lines.length;
      return;
    }
    const next = lineKeys(job);
    lines.forEach((l, i) => {
      if (next[i] !== keys[i]) out.write(`${l}\n`);
    });
    keys = next;
  };

  const ac = new AbortController();
  process.once("SIGINT", () => {
    ac.abort();
    console.error(`\nstopped watching; the job goes on: ${base}/jobs/${id}`);
    process.exit(130);
  });
  let job: JobView;
  try {
    job = await watchJob(base, id, draw, { signal: ac.signal });
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  if (job.state === "ready" && job.link) {
    const left = job.expires_at ? ` (expires ${job.expires_at}, in ${countdown(Date.parse(job.expires_at) - Date.now())}; works for one download)` : "";
    console.log(`ready: ${job.link}${left}`);
    return 0;
  }
  console.error(job.state === "cancelled" ? "cancelled: the job was cancelled" : `failed: ${job.error ?? "the job failed"}`);
  return 1;
}

process.exitCode = await main(process.argv.slice(2));
