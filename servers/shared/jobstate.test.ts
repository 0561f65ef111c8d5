import { expect, test } from "bun:test";
import { applyEvent, newJob } from "./jobstate.ts";
import type { FileEvent } from "./messages.ts";

const id = "a".repeat(32);
const file = (index: number, state: FileEvent["state"], bytes: number, at = 1): FileEvent => ({
  v: 1, type: "file", jobId: id, index, total: 2, url: "u", name: "n.jpg", state, bytes, size: 10, error: state === "failed" ? "HTTP 404" : null, at,
});

test("events move a job forward, never back", () => {
  let j = newJob(id, ["https://a/1", "https://a/2"]);
  j = applyEvent(j, file(0, "downloading", 5));
  expect(j.state).toBe("downloading");
  j = applyEvent(j, file(0, "done", 10));
  j = applyEvent(j, file(0, "downloading", 3)); // late duplicate
  expect(j.files[0]).toMatchObject({ state: "done", bytes: 10, name: "n.jpg" });
  j = applyEvent(j, file(1, "failed", 0));
  expect(j.files[1]!.error).toBe("HTTP 404");
  j = applyEvent(j, { v: 1, type: "compress", jobId: id, percent: 40, at: 2 });
  j = applyEvent(j, { v: 1, type: "compress", jobId: id, percent: 20, at: 3 });
  expect(j.compress.percent).toBe(40);
  j = applyEvent(j, { v: 1, type: "link", jobId: id, link: "http://l", expiresAt: "2030-01-01T00:00:00.000Z", bytes: 9, entries: 1, at: 4 });
  expect(j).toMatchObject({ state: "ready", link: "http://l", compress: { percent: 100 } });
  expect(applyEvent(j, { v: 1, type: "failed", jobId: id, error: "x", at: 5 }).state).toBe("ready");
});

test("a file's start is its first event's, or the start its final event carries when it sent no other", () => {
  const j = newJob(id, ["https://a/1", "https://a/2"]);
  const quick = applyEvent(j, { ...file(0, "done", 10, 50), started: 20 });
  expect(quick.files[0]).toMatchObject({ state: "done", started_at: 20, updated_at: 50 });
  const slow = applyEvent(applyEvent(j, file(1, "downloading", 5, 30)), { ...file(1, "done", 10, 60), started: 10 });
  expect(slow.files[1]).toMatchObject({ state: "done", started_at: 30, updated_at: 60 });
});

test("another job's event changes nothing", () => {
  const j = newJob(id, ["https://a/1"]);
  expect(applyEvent(j, { ...file(0, "done", 1), jobId: "b".repeat(32) })).toBe(j);
});
