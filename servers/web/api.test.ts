/** The API through the real web server: job creation, validation errors per line, the job's JSON. */
import { describe, expect, test } from "bun:test";
import { newId } from "../shared/ids.ts";
import { useStack } from "../../test/stack.ts";

const post = async (web: string, body: string, type: string, accept = "application/json") =>
  fetch(`${web}/jobs`, { method: "POST", body, headers: { "content-type": type, accept }, redirect: "manual" });

describe("POST /jobs", () => {
  test("text/plain: 202, Location, ids; the job JSON lists every file", async () => {
    const { web, fixtures } = await useStack();
    const a = fixtures.route("/api-1/a.txt", "hello");
    const r = await post(web, `# comment\n\n${a}\nhttps://example.invalid/b.jpg\n`, "text/plain");
    expect(r.status).toBe(202);
    const body = (await r.json()) as { id: string; status_url: string; events_url: string };
    expect(body.id).toMatch(/^[0-9a-f]{32}$/);
    expect(r.headers.get("location")).toBe(`/jobs/${body.id}`);
    expect(body.status_url).toBe(`/jobs/${body.id}`);
    expect(body.events_url).toBe(`/jobs/${body.id}/events`);
    const job = (await (await fetch(`${web}${body.status_url}`, { headers: { accept: "application/json" } })).json()) as {
      id: string; files: { index: number; url: string }[];
    };
    expect(job.id).toBe(body.id);
    expect(job.files.map((f) => f.url)).toEqual([a, "https://example.invalid/b.jpg"]);
  }, 60_000);

  test("invalid lines: 400 with the line number and reason of each", async () => {
    const { web } = await useStack();
    const r = await post(web, "https://ok.example/a\nftp://x/y\nnot a url\n", "text/plain");
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: string; invalid: { line: number; url: string; reason: string }[] };
    expect(body.invalid.map((i) => i.line)).toEqual([2, 3]);
    expect(body.invalid[0]!.reason).toContain("ftp:");
  }, 60_000);

  test("unknown job: 404", async () => {
    const { web } = await useStack();
    const r = await fetch(`${web}/jobs/${newId()}`, { headers: { accept: "application/json" } });
    expect(r.status).toBe(404);
  }, 60_000);
});
