/**
 * Flaky sources through the shared stack's downloader (DOWNLOAD_RETRIES=3):
 * a source that answers 503 twice is retried and the file arrives, the job's
 * JSON saying meanwhile that it waits to retry; one that drops the
 * connection at 60 % is resumed with Range (its log shows the second
 * request asked for the rest); a 404 is not retried.
 */
import { describe, expect, test } from "bun:test";
import { newId } from "../../servers/shared/ids.ts";
import { useStack } from "../stack.ts";
import { watch } from "../support/events.ts";
import { entries, fetchLink, submit, waitFinal } from "../support/jobs.ts";
import { keys } from "../../servers/shared/topology.ts";

const BODY = new Uint8Array(400_000).map((_, i) => (i * 7) & 255);

describe("flaky sources", () => {
  test("503 twice, then the file: the job ends ready with it; meanwhile its file says it will retry", async () => {
    const { web, fixtures, config } = await useStack();
    const path = `/retry-${newId()}/flaky.bin`;
    let n = 0;
    const url = fixtures.route(path, () => (++n <= 2 ? new Response("busy", { status: 503, headers: { "retry-after": "0" } }) : new Response(BODY)));
    const w = await watch(config, keys.jobAll("*"));
    try {
      const id = await submit(web, [url]);
      const note = await w.next((e) => e.ev.type === "file" && e.ev.jobId === id && !!e.ev.retry, "a retry note");
      expect(note.ev.type === "file" && note.ev.retry).toMatchObject({ attempt: 2, attempts: 4, reason: "HTTP 503 Service Unavailable" });
      const job = await waitFinal(web, id);
      expect([job.state, job.files[0]!.state, job.files[0]!.retry, fixtures.hits(path)]).toEqual(["ready", "done", null, 3]);
      expect(Buffer.from(entries((await fetchLink(job.link!)).body)["flaky.bin"]!).equals(Buffer.from(BODY))).toBe(true);
    } finally {
      await w.close();
    }
  }, 60_000);

  test("dropped at 60 %: the retry asks for the rest (Range, If-Range) and the archive holds the whole file", async () => {
    const { web, fixtures } = await useStack();
    const path = `/resume-${newId()}/big.bin`;
    const log: string[] = [];
    const url = fixtures.route(path, (req) => {
      const range = req.headers.get("range");
      log.push(`${range ?? "-"} ${req.headers.get("if-range") ?? "-"}`);
      if (range) {
        const from = Number(/^bytes=(\d+)-$/.exec(range)![1]);
        return new Response(BODY.subarray(from), { status: 206, headers: { etag: '"big-v1"', "content-range": `bytes ${from}-${BODY.length - 1}/${BODY.length}` } });
      }
      let sent = false;
      const cut = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (!sent) return void ((sent = true), c.enqueue(BODY.subarray(0, BODY.length * 0.6)));
          await Bun.sleep(50);
          c.error(new Error("the source drops the connection"));
        },
      });
      return new Response(cut, { headers: { etag: '"big-v1"', "content-length": String(BODY.length) } });
    });
    const job = await waitFinal(web, await submit(web, [url]));
    expect(job.files[0]!.state).toBe("done");
    expect(log[0]).toBe("- -");
    const from = Number(/^bytes=(\d+)- "big-v1"$/.exec(log[1] ?? "")?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(BODY.length * 0.6);
    expect(log.length).toBe(2);
    expect(Buffer.from(entries((await fetchLink(job.link!)).body)["big.bin"]!).equals(Buffer.from(BODY))).toBe(true);
  }, 60_000);

  test("a 404 is not retried: the file fails at once with its reason", async () => {
    const { web, fixtures } = await useStack();
    const path = `/gone-${newId()}/x.bin`;
    const url = fixtures.route(path, () => new Response("no", { status: 404 }));
    const job = await waitFinal(web, await submit(web, [url, fixtures.route(`/gone-${newId()}/ok.txt`, "ok\n", "text/plain")]));
    expect([job.files[0]!.error, fixtures.hits(path)]).toEqual(["HTTP 404 Not Found", 1]);
  }, 60_000);
});
