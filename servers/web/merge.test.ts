import { expect, test } from "bun:test";
import { applyEvent, newJob, type JobView } from "../shared/jobstate.ts";
import type { FileEvent } from "../shared/messages.ts";
import { changedParts, mergeJob } from "./merge.ts";

const id = "c".repeat(32);
const fileEv = (index: number, state: FileEvent["state"], bytes: number): FileEvent => ({
  v: 1, type: "file", jobId: id, index, total: 3, url: "u", name: `f${index}`, state, bytes, size: 100, error: null, at: 1000 + bytes,
});
const base = () => newJob(id, ["https://h/a", "https://h/b", "https://h/c"]);

test("merging a view that knows nothing more returns the same object", () => {
  let a = applyEvent(base(), fileEv(0, "downloading", 50));
  const b = JSON.parse(JSON.stringify(a)) as JobView;
  expect(mergeJob(a, b)).toBe(a);
  a = applyEvent(a, fileEv(0, "downloading", 70));
  expect(mergeJob(a, b)).toBe(a); // b is behind: nothing goes back
});

test("the store's view fills in what the live feed missed, keeping unchanged rows", () => {
  const a = applyEvent(base(), fileEv(0, "downloading", 50));
  let b = applyEvent(base(), fileEv(0, "downloading", 40));
  b = applyEvent(b, fileEv(1, "done", 100));
  b = applyEvent(b, fileEv(2, "failed", 0));
  const m = mergeJob(a, b);
  expect(m.files[0]).toBe(a.files[0]!);
  expect(m.files[1]!.state).toBe("done");
  expect(m.files[2]!.state).toBe("failed");
  expect(changedParts(a, m).sort()).toEqual(["file-1", "file-2", "overall"]);
});

test("a finished store view brings the link, and every part that shows it changes", () => {
  let a = base();
  let b = base();
  for (const i of [0, 1, 2]) b = applyEvent(b, fileEv(i, "done", 100));
  b = applyEvent(b, { v: 1, type: "link", jobId: id, link: "http://n/d/x", expiresAt: "2030-01-01T00:00:00.000Z", bytes: 300, entries: 3, at: 5000 });
  const m = mergeJob(a, b);
  expect(m).toMatchObject({ state: "ready", link: "http://n/d/x", finished_at: 5000, compress: { percent: 100 } });
  expect(changedParts(a, m).sort()).toEqual(["clock", "compress", "file-0", "file-1", "file-2", "link", "overall"]);
  a = m;
  expect(mergeJob(a, base())).toBe(a);
});

test("changedParts of one progress event: that file's row and the overall bar", () => {
  const a = base();
  expect(changedParts(a, applyEvent(a, fileEv(1, "downloading", 10))).sort()).toEqual(["file-1", "overall"]);
  expect(changedParts(a, applyEvent(a, { v: 1, type: "compress", jobId: id, percent: 10, at: 1 })).sort()).toEqual(["compress", "overall"]);
});
