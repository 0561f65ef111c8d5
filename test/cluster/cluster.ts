/**
 * `bun run test:cluster`: linkpack as a cluster of machines, each a network
 * namespace on one private bridge (see hosts.ts for who runs where). While
 * 100 ten-file jobs go in through alternating web hosts it kills a broker
 * node, a web process and a compressor mid-archive with -9 and cuts a
 * downloader host off mid-download, then proves every job ended `ready` with
 * every file byte-identical, one archive and one link event each, nothing
 * left in or unacked on any queue; that a job posted to web A is followed
 * live on web B; and that a link cut off through nginx A resumes through
 * nginx B but cannot be restarted, and is gone (`410`) from both once whole.
 * Prints its figures; `--write-benchmarks` also puts them into BENCHMARKS.md.
 * Removes every namespace, link and process it made, also on failure or
 * Ctrl-C. Not part of `bun test` (it is not a *.test.ts file).
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { unzipSync } from "fflate";
import { archiveFolder } from "../../servers/shared/link.ts";
import { readSse } from "../../scripts/submit/sse-reader.ts";
import { logFile } from "../../scripts/lib/procs.ts";
import { buildWorld, keepFolder, teardown, type World } from "./world.ts";
import { fileOrigin, hostConfig, nginxOrigin, PARTS, webOrigin, type HostName } from "./hosts.ts";
import { fileBytes, filePath, sha256, type FileSpec } from "./content.ts";
import { count, failoversFrom, jobJson, watchLinks, type LinkWatch } from "./observe.ts";
import { cutDownloader, faultLog, killBrokerNode, killCompressorMidArchive, killWeb } from "./faults.ts";
import { queueCounts } from "./rabbitcluster.ts";
import { pgTables } from "./postgres.ts";
import { render, writeBenchmarks, type Figures } from "./figures.ts";
import { until } from "../support/wait.ts";

const JOBS = 100;
const FILES = 10;
/** jobs with big files: their archives take long enough to be killed mid-way, and big enough to cut a link download short */
const HEAVY = new Set([5, 40]);
const MINUTE = 60_000;

const say = (s: string) => console.log(s);
const t0 = Date.now();
const faults = faultLog(t0, say);
const checks: Figures["checks"] = [];
function check(name: string, ok: boolean, detail = ""): void {
  detail = detail.replace(/\s+/g, " ").slice(0, 600);
  checks.push({ name, ok, detail });
  say(`${ok ? "ok  " : "FAIL"} ${name}${detail ? ` — ${detail}` : ""}`);
}

let cleaning: Promise<void> | null = null;
async function cleanup(watch: LinkWatch | null): Promise<void> {
  cleaning ??= (async () => {
    await watch?.close();
    const errors = teardown();
    if (errors.length) console.error(`teardown problems:\n${errors.join("\n")}`);
  })();
  return cleaning;
}
let watch: LinkWatch | null = null;
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
  process.on(sig, () => {
    console.error(`\n${sig}: tearing the cluster down`);
    void cleanup(watch).finally(() => process.exit(130));
  });

for (const ev of ["uncaughtException", "unhandledRejection"] as const)
  process.on(ev, (err) => {
    console.error(`${ev}: ${(err as Error)?.stack ?? err}; tearing the cluster down`);
    keepFolder();
    void cleanup(watch).finally(() => process.exit(1));
  });

/** The files of job `i` (deterministic, so every byte can be checked). */
function jobFiles(run: string, i: number): FileSpec[] {
  return Array.from({ length: FILES }, (_, n) => {
    const heavy = HEAVY.has(i);
    // small files of 16-64 KiB, one body taking ~1.2 s; heavy ones 12 MB in ~2 s
    const size = heavy ? 12_000_000 + n * 1000 : 16_384 + ((i * 7919 + n * 104_729) % 49_152);
    return { tag: `${run}-j${i}`, size, ms: heavy ? 2000 : 1200, name: `f${n}.txt` };
  });
}

interface Submitted {
  i: number;
  id: string;
  via: HostName;
  files: FileSpec[];
}

const webs = ["web1", "web2"] as const;

/** Posts job `i` to its web host (alternating); on a refused or failed post, to the other one. */
async function submit(i: number, files: FileSpec[], onFailover: () => void): Promise<Submitted> {
  const urls = files.map((f) => fileOrigin() + filePath(f));
  const first = webs[i % 2]!;
  const order = [first, webs[(i + 1) % 2]!];
  const end = Date.now() + 2 * MINUTE;
  for (let attempt = 0; ; attempt++) {
    const via = order[attempt % 2]!;
    try {
      const r = await fetch(`${webOrigin(via)}/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ urls }),
        signal: AbortSignal.timeout(15_000),
      });
      const body = await r.text();
      if (r.status === 202) return { i, id: (JSON.parse(body) as { id: string }).id, via, files };
      if (r.status < 500 && r.status !== 429) throw new Error(`POST /jobs to ${via}: ${r.status} ${body}`);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith("POST /jobs")) throw err;
    }
    if (via === first) onFailover();
    if (Date.now() > end) throw new Error(`job ${i}: no web server took it`);
    await Bun.sleep(200);
  }
}

interface Followed {
  /** the page on `h` while the job ran: what was wrong with it (null: live, with every file's row) */
  page: string | null;
  /** the JSON stream: the job states seen, in order, and the final event's state */
  states: string[];
  done: string | null;
  /** the page's own (HTML) stream: distinct event ids before its final event (the first is the full state, each later one a live change), events by name, the final event */
  htmlVersions: number;
  htmlEvents: Record<string, number>;
  htmlDone: string | null;
}

/** Follows job `s` on web host `h`, which it was not posted to: its page, then its page's event stream and the JSON one, until their final events. */
async function followOn(h: "web1" | "web2", s: Submitted): Promise<Followed> {
  const base = `${webOrigin(h)}/jobs/${s.id}`;
  const streams = (format: string) => fetch(`${base}/events${format}`, { signal: AbortSignal.timeout(8 * MINUTE) });
  // both streams open before the page is read, so whatever the page shows, the streams see every change after it
  const [json, html] = await Promise.all([streams("?format=json"), streams("")]);
  const pageRes = await fetch(base, { headers: { accept: "text/html" }, signal: AbortSignal.timeout(15_000) });
  const text = await pageRes.text();
  const missing = s.files.filter((f) => !text.includes(f.name)).map((f) => f.name);
  const page =
    pageRes.status !== 200 ? `page: ${pageRes.status}`
    : !text.includes(`sse-connect="/jobs/${s.id}/events"`) ? "page is not live (no sse-connect: the job had finished already)"
    : missing.length ? `page lacks rows for ${missing.join(", ")}`
    : null;
  const readJson = async () => {
    const states: string[] = [];
    let done: string | null = null;
    for await (const ev of readSse(json.body!)) {
      if (ev.event === "job") states.push((JSON.parse(ev.data) as { state: string }).state);
      if (ev.event === "done") {
        done = (JSON.parse(ev.data) as { state: string }).state;
        break;
      }
    }
    return { states, done };
  };
  const readHtml = async () => {
    const ids = new Set<string>();
    const events: Record<string, number> = {};
    let done: string | null = null;
    for await (const ev of readSse(html.body!)) {
      if (ev.event === "done") {
        done = ev.data;
        break;
      }
      if (ev.id) ids.add(ev.id);
      events[ev.event] = (events[ev.event] ?? 0) + 1;
    }
    return { versions: ids.size, events, done };
  };
  const [j, x] = await Promise.all([readJson(), readHtml()]);
  return { page, states: j.states, done: j.done, htmlVersions: x.versions, htmlEvents: x.events, htmlDone: x.done };
}

/** Every `<job>.zip` under the archives folder (one folder per job), and what is in `.partial/`. */
function archivesOnDisk(dir: string): { zips: Map<string, string[]>; partial: string[] } {
  const zips = new Map<string, string[]>();
  for (const folder of readdirSync(dir)) {
    if (folder === ".partial") continue;
    const sub = `${dir}/${folder}`;
    let names: string[] = [];
    try {
      names = readdirSync(sub);
    } catch {
      continue;
    }
    for (const n of names) if (n.endsWith(".zip")) zips.set(n.slice(0, -4), [...(zips.get(n.slice(0, -4)) ?? []), `${sub}/${n}`]);
  }
  const partial = existsSync(`${dir}/.partial`) ? readdirSync(`${dir}/.partial`) : [];
  return { zips, partial };
}

/** What is wrong with archive `path` for job `s` (null: every file there, byte-identical). */
function archiveProblem(path: string, s: Submitted): string | null {
  const entries = unzipSync(new Uint8Array(readFileSync(path)));
  const got = Object.entries(entries)
    .filter(([name]) => name !== "MANIFEST.sha256" && name !== "FAILED.txt")
    .map(([, b]) => sha256(b))
    .sort();
  const want = s.files.map((f) => sha256(fileBytes(filePath(f)))).sort();
  if ("FAILED.txt" in entries) return `FAILED.txt: ${new TextDecoder().decode(entries["FAILED.txt"]!).slice(0, 200)}`;
  if (got.length !== want.length) return `${got.length} entries, not ${want.length}`;
  const diff = want.filter((w, k) => got[k] !== w).length;
  return diff ? `${diff} entries differ from the files served` : null;
}

/** The cross-nginx link check: cut short through A, refused from zero through B, resumed through B, then gone on both. */
async function resumeAcrossNginx(link: string, archivePath: string): Promise<string | null> {
  const whole = new Uint8Array(readFileSync(archivePath));
  const viaB = link.replace(nginxOrigin("ngx1"), nginxOrigin("ngx2"));
  if (viaB === link) return `link ${link} is not under ${nginxOrigin("ngx1")}`;
  // 1. a partial GET through A: read some bytes, then hang up
  const abort = new AbortController();
  const a = await fetch(link, { signal: abort.signal });
  if (a.status !== 200) return `first GET through nginx A: ${a.status}`;
  const reader = a.body!.getReader();
  const head: Uint8Array[] = [];
  let got = 0;
  // past the overlap a resume may go back (LINK_RESUME_OVERLAP_BYTES, 16 MiB), so a restart from zero is beyond it
  const cutAt = 20 * 1024 * 1024;
  if (whole.length < cutAt + 8 * 1024 * 1024) return `archive of ${whole.length} bytes is too small to cut a download short past the resume overlap`;
  while (got < cutAt) {
    const { value, done } = await reader.read();
    if (done) return "the whole archive came before the download could be cut short (archive too small)";
    head.push(value);
    got += value.length;
  }
  abort.abort();
  await reader.cancel().catch(() => {});
  // 2. once the guard has taken nginx A's line (the lease is free: no more 409), a restart from zero through B is refused
  const fromZero = await until(
    "the guard to record the cut-off download (nginx B stops answering 409)",
    async () => {
      const r = await fetch(viaB);
      await r.arrayBuffer();
      return r.status === 409 ? null : r.status;
    },
    2 * MINUTE,
  );
  if (fromZero !== 416) return `GET from zero through nginx B after a cut-off download: ${fromZero}, not 416`;
  // 3. the rest through B with Range
  const rest = await fetch(viaB, { headers: { range: `bytes=${got}-` } });
  if (rest.status !== 206) return `Range: bytes=${got}- through nginx B: ${rest.status}, not 206`;
  const tailBytes = new Uint8Array(await rest.arrayBuffer());
  const joined = new Uint8Array(got + tailBytes.length);
  let at = 0;
  for (const part of [...head, tailBytes]) {
    joined.set(part, at);
    at += part.length;
  }
  if (joined.length !== whole.length || sha256(joined) !== sha256(whole)) return `resumed download is ${joined.length} bytes, sha differs from the archive (${whole.length} bytes)`;
  // 4. whole: both refuse it
  for (const url of [link, viaB]) {
    const status = await until(`${url} to answer 410 once delivered`, async () => {
      const r = await fetch(url);
      await r.arrayBuffer();
      return r.status === 410 ? 410 : null;
    }, MINUTE);
    if (status !== 410) return `${url}: ${status}`;
  }
  return null;
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) throw new Error("the cluster test makes network namespaces: run it as root");
  say(`cluster test: ${JOBS} jobs of ${FILES} files`);
  const world: World = await buildWorld(say);
  const { net, nodes, shared } = world;
  const [mq1, , mq3] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]];
  // The node killed is the first of some hosts' lists (a downloader's and a compressor's, hosts.ts) and where the topology was declared (the quorum queues' first leaders); the test watches from mq3.
  const victim = mq1!;
  watch = await watchLinks(shared, mq3!.ip);
  const run = Math.random().toString(36).slice(2, 8);

  const tStart = Date.now();
  let webFailovers = 0;
  let submittedCount = 0;
  const submitted: Submitted[] = [];
  const faultTasks: Promise<unknown>[] = [];
  let brokerKilledAt = 0;
  const after = (n: number) => until(`${n} jobs submitted`, () => submittedCount >= n, 10 * MINUTE);
  const fault = (name: string, f: () => Promise<unknown>) =>
    faultTasks.push(
      f().then(
        () => check(name, true),
        (err) => check(name, false, String(err).slice(0, 500)),
      ),
    );
  fault("kill -9 of a web process, started again", () => after(12).then(() => killWeb(net, shared, "web1", () => webFailovers > 0, faults)));
  fault("kill -9 of a compressor mid-archive, started again", () => after(4).then(() => killCompressorMidArchive(net, shared, ["cz1", "cz2"], faults)));
  fault("a downloader host cut off mid-download, put back", () => after(25).then(() => cutDownloader(net, "dl1", nodes, faults)));
  fault(`kill -9 of broker node ${victim.name} (clients on it fail over), relaunched`, () => after(50).then(async () => (brokerKilledAt = await killBrokerNode(net, victim, mq3!, faults))));

  let live: Promise<Followed | string> | null = null;
  for (let i = 0; i < JOBS; i++) {
    const s = await submit(i, jobFiles(run, i), () => webFailovers++);
    submitted.push(s);
    submittedCount++;
    // the first job, posted through web1, is followed live on web2
    if (i === 0) live = followOn(s.via === "web1" ? "web2" : "web1", s).catch((err) => String(err));
    await Bun.sleep(150); // pacing only: the faults wait for what they need, not for this
  }
  say(`${JOBS} jobs submitted in ${((Date.now() - tStart) / 1000).toFixed(1)} s (${webFailovers} posts failed over to the other web server)`);

  await until(
    () => `every job's link or failure event (${watch!.links.size + watch!.failed.size} of ${JOBS})`,
    () => submitted.every((s) => watch!.links.has(s.id) || watch!.failed.has(s.id)),
    10 * MINUTE,
  ).catch((err) => check("every job finished", false, String(err)));
  await Promise.all(faultTasks);
  const wall = (Date.now() - tStart) / 1000;

  // Every job ready with every file, asked alternately of both web servers.
  const notReady: string[] = [];
  const fileStates = new Map<string, number>();
  // one deadline for them all (the link events are in already): a run where jobs are stuck still ends in minutes
  const askedBy = Date.now() + MINUTE;
  for (const s of submitted) {
    const j = await until(`job ${s.i} to be ready on either web server`, async () => {
      const j = (await jobJson(webOrigin(webs[s.i % 2]!), s.id)) ?? (await jobJson(webOrigin(webs[(s.i + 1) % 2]!), s.id));
      return j && ["ready", "failed", "cancelled"].includes(j.state) ? j : null;
    }, Math.max(5_000, askedBy - Date.now())).catch(() => null);
    const bad = !j ? "not finished" : j.state !== "ready" ? `${j.state}: ${j.error}` : j.files.filter((f) => f.state !== "done").map((f) => `file ${f.index} ${f.state} ${f.error}`).join("; ");
    if (bad) notReady.push(`job ${s.i} (${s.id}): ${bad}`);
    for (const f of j?.files ?? []) if (f.state !== "done") fileStates.set(f.state, (fileStates.get(f.state) ?? 0) + 1);
  }
  // a file left "downloading" in a ready job is an update the job store lost; a "failed" one, a download given up
  const summary = [...fileStates].map(([state, n]) => `${n} files ${state}`).join(", ");
  check(`every job ends ready with all ${FILES} files`, notReady.length === 0, notReady.length ? `${notReady.length} jobs (${summary}); ${notReady.slice(0, 4).join(" | ")}` : "");

  const { zips, partial } = archivesOnDisk(shared.archives);
  const archiveBad: string[] = [];
  for (const s of submitted) {
    const found = zips.get(s.id) ?? [];
    if (found.length !== 1) {
      archiveBad.push(`job ${s.i}: ${found.length} archives`);
      continue;
    }
    const expected = `${shared.archives}/${archiveFolder(readFileSync(hostConfig(shared, "cz1").LINK_SECRET_FILE, "utf8").trim(), s.id)}/${s.id}.zip`;
    if (found[0] !== expected) archiveBad.push(`job ${s.i}: archive at ${found[0]}, not ${expected}`);
    const p = archiveProblem(found[0]!, s);
    if (p) archiveBad.push(`job ${s.i}: ${p}`);
  }
  check("exactly one archive per job, every entry byte-identical to the file served", archiveBad.length === 0 && zips.size === JOBS, `${zips.size} archives${archiveBad.length ? `; ${archiveBad.slice(0, 5).join(" | ")}` : ""}`);
  check("no partial archive left", partial.length === 0, partial.join(", "));

  const linkCounts = submitted.map((s) => watch!.links.get(s.id) ?? 0);
  const wrong = linkCounts.map((n, i) => [i, n] as const).filter(([, n]) => n !== 1);
  check("exactly one link event per job", wrong.length === 0, wrong.slice(0, 10).map(([i, n]) => `job ${i}: ${n}`).join(", "));

  // Nothing left on any queue, nothing unacknowledged (the test's own exclusive queue aside).
  let last: Awaited<ReturnType<typeof queueCounts>> = [];
  const drained = await until("every queue to be empty with nothing unacked", async () => {
    last = (await queueCounts(net, mq3!)).filter((q) => !q.name.startsWith("amq.gen-"));
    return last.every((q) => q.messages === 0 && q.messages_unacknowledged === 0);
  }, 2 * MINUTE).catch(() => false);
  check("queues empty, nothing unacked", !!drained, last.map((q) => `${q.name}: ${q.messages} ready, ${q.messages_unacknowledged} unacked`).join("; "));
  const types = last.map((q) => `${q.name}: ${q.type}`).join(", ");
  const allQuorum = last.length > 0 && last.every((q) => q.type === "quorum");
  check("every queue is a quorum queue", allQuorum, types);

  const routes = net.routesOut();
  check("no host has a route out of the test's bridge", routes.length === 0, routes.slice(0, 5).join("; "));

  const tables = (() => {
    try {
      return pgTables(net, "pg", world.pgDir);
    } catch (err) {
      return [`(${err})`];
    }
  })();
  check("the servers keep their state in PostgreSQL", tables.length > 0, tables.join(", ") || "no tables in database linkpack");

  const r = await live!;
  if (typeof r === "string") check("job posted through one web host: page and event streams on the other, live", false, r);
  else {
    const jsonLive = r.states.some((st) => st !== "ready" && st !== "failed") && r.done === "ready";
    const htmlLive = r.htmlVersions >= 2 && (r.htmlEvents["link"] ?? 0) > 0 && r.htmlDone === "ready";
    check(
      "job posted through one web host: page and event streams on the other, live",
      r.page === null && jsonLive && htmlLive,
      `page ${r.page ?? "live, every file listed"}; JSON stream ${[...new Set(r.states)].join(" → ")}, done ${r.done}; page stream ${r.htmlVersions} versions, ${Object.entries(r.htmlEvents).map(([k, v]) => `${k}×${v}`).join(" ")}, done ${r.htmlDone}`,
    );
  }

  // Cross-nginx resume, on a heavy job (an archive too big to go out whole before the cut).
  const heavy = submitted.find((s) => HEAVY.has(s.i))!;
  const hj = await jobJson(webOrigin("web2"), heavy.id);
  const heavyZip = zips.get(heavy.id)?.[0];
  if (!hj?.link || !heavyZip) check("a link cut off through nginx A resumes through nginx B; restart refused; then 410 on both", false, "the heavy job has no link or archive");
  else {
    const problem = await resumeAcrossNginx(hj.link, heavyZip).catch((err) => String(err));
    check("a link cut off through nginx A resumes through nginx B; restart refused; then 410 on both", problem === null, problem ?? "");
  }

  // Figures: what the parts' own logs say about the failovers they went through.
  const logs: Record<string, string> = {};
  for (const [h, parts] of Object.entries(PARTS)) for (const p of parts) logs[`${h}/${p}`] = await Bun.file(logFile(hostConfig(shared, h as HostName).RUN_DIR, p)).text().catch(() => "");
  // The broker node's kill hit clients, and each of them moved to another node.
  const moved = brokerKilledAt ? failoversFrom(logs, victim.ip, brokerKilledAt) : [];
  check(
    `the parts on broker node ${victim.name} when it was killed failed over to another node`,
    moved.length > 0 && moved.every((m) => m.movedTo !== null),
    moved.length ? moved.map((m) => `${m.part} → ${m.movedTo ?? "never reconnected"}`).join(", ") : "no part was on it",
  );
  const sum = (words: string, filter: (k: string) => boolean = () => true) => Object.entries(logs).filter(([k]) => filter(k)).reduce((n, [, t]) => n + count(t, words), 0);
  const figures: Figures = {
    date: new Date().toISOString().slice(0, 10),
    jobs: JOBS,
    filesPerJob: FILES,
    bytes: submitted.reduce((n, s) => n + s.files.reduce((m, f) => m + f.size, 0), 0),
    wallSeconds: wall,
    setupSeconds: world.setup,
    failovers: {
      "job posts that went to the other web server": webFailovers,
      "link events delivered again (a nacked publish retried; same message id)": watch!.linkDeliveries - [...watch!.links.values()].reduce((n, v) => n + v, 0),
      [`parts that moved off the killed broker node`]: moved.filter((m) => m.movedTo).length,
      "broker reconnects (part logs)": sum("broker disconnected"),
      "STOMP reconnects (web logs)": sum("stomp connection lost"),
      "downloads redelivered and not fetched again": sum("already downloaded (redelivery)"),
      "compressor retries of a job": sum("compressor did not accept job"),
      "partial archives cleared at a compressor start": sum("removed partial archives"),
      "dead claims' partial archives cleared by the job's next claim": sum("removed a dead claim's partial archive"),
      "finished jobs re-announced": sum("re-announcing a finished job"),
    },
    faults: faults.events,
    checks,
  };
  say(`\n${render(figures)}`);
  if (Bun.argv.includes("--write-benchmarks")) {
    writeBenchmarks(figures);
    say("BENCHMARKS.md: cluster section written");
  }
  const failed = checks.filter((c) => !c.ok);
  if (!failed.length && Bun.argv.includes("--keep-logs")) say(`logs kept in ${keepFolder("logs of a passing cluster test run (--keep-logs)")}/hosts/*/logs (--keep-logs)`);
  if (failed.length) {
    const kept = keepFolder();
    say(`\n${failed.length} check(s) failed; logs kept in ${kept}/hosts/*/logs and ${kept}/logs`);
  }
  return failed.length ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`cluster test failed: ${(err as Error).stack ?? err}`);
  const kept = keepFolder();
  if (kept) console.error(`logs kept in ${kept}`);
} finally {
  await cleanup(watch);
}
say(`cluster test ${code === 0 ? "passed" : "FAILED"} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
process.exit(code);
