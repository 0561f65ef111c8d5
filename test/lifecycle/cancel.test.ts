/**
 * Cancel, through the shared stack: DELETE /jobs/<id> (or the page's form)
 * ends a job that is not finished — its downloads stop at once, nothing is
 * compressed, its folder goes, it ends `cancelled` and its event stream
 * ends with the final event; cancelling a finished job is 409; another
 * site cannot cancel.
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { newId } from "../../servers/shared/ids.ts";
import { jobDir } from "../../servers/shared/jobfiles.ts";
import { useStack } from "../stack.ts";
import { sseClient } from "../support/events.ts";
import { held } from "../support/fixtures.ts";
import { archivesOf, getJob, submit, waitFinal } from "../support/jobs.ts";
import { until } from "../support/wait.ts";

const del = (web: string, id: string, headers: Record<string, string> = {}) => fetch(`${web}/jobs/${id}`, { method: "DELETE", headers: { accept: "application/json", ...headers } });

describe("cancel", () => {
  test("DELETE mid-download: the download stops, nothing is packed, the folder goes, the stream ends; again: 409", async () => {
    const { web, fixtures, config } = await useStack();
    const source = held();
    const prefix = `/cancel-${newId()}`;
    const id = await submit(web, [fixtures.route(`${prefix}/slow.bin`, source.handler), fixtures.route(`${prefix}/slow2.bin`, source.handler)]);
    try {
      await until("both downloads to be under way", () => source.open === 2);
      const page = await sseClient(`${web}/jobs/${id}/events?format=json`);
      await page.next((e) => e.event === "job");
      const r = await del(web, id);
      expect([r.status, await r.json()]).toEqual([202, { id, state: "cancelling", status_url: `/jobs/${id}` }]);
      await until("the downloads to be aborted", () => source.open === 0, 30_000);
      const done = await page.next((e) => e.event === "done");
      expect(JSON.parse(done.data).state).toBe("cancelled");
      page.close();
      const job = await waitFinal(web, id);
      expect([job.state, job.link]).toEqual(["cancelled", null]);
      await until("the job folder to be removed", () => !existsSync(jobDir(config, id)));
      expect(archivesOf(config, id)).toEqual([]);
      const again = await del(web, id);
      expect(again.status).toBe(409);
      expect(((await again.json()) as { error: string }).error).toContain("cancelled");
    } finally {
      source.release();
    }
  }, 60_000);

  test("a finished job cannot be cancelled (409); the page's form cancels (303); another site cannot (403)", async () => {
    const { web, fixtures } = await useStack();
    const finished = await waitFinal(web, await submit(web, [fixtures.route(`/cancel-${newId()}/a.txt`, "done\n", "text/plain")]));
    expect((await del(web, finished.id)).status).toBe(409);
    expect((await getJob(web, finished.id)).state).toBe("ready");

    const source = held();
    const id = await submit(web, [fixtures.route(`/cancel-${newId()}/held.bin`, source.handler)]);
    try {
      await until("the download to be under way", () => source.open === 1);
      const html = await (await fetch(`${web}/jobs/${id}`, { headers: { accept: "text/html" } })).text();
      expect(html).toContain(`<form method="post" action="/jobs/${id}/cancel"`);
      const cross = await del(web, id, { origin: "https://evil.example" });
      expect(cross.status).toBe(403);
      const form = await fetch(`${web}/jobs/${id}/cancel`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin", accept: "text/html" }, body: "", redirect: "manual" });
      expect([form.status, form.headers.get("location")]).toEqual([303, `/jobs/${id}`]);
      expect((await waitFinal(web, id)).state).toBe("cancelled");
    } finally {
      source.release();
    }
  }, 60_000);
});
