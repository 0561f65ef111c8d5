import { expect, test } from "bun:test";
import { applyEvent, newJob } from "../../servers/shared/jobstate.ts";
import { bar, jobLines, lineKeys } from "./bars.ts";

const id = "d".repeat(32);

test("bar", () => {
  expect(bar(0, 10)).toBe("[..........]");
  expect(bar(0.5, 10)).toBe("[#####.....]");
  expect(bar(1, 4)).toBe("[####]");
  expect(bar(null, 3)).toBe("[???]");
});

test("a line per file, then downloads and zip; failures in words", () => {
  let j = newJob(id, ["https://h/a.jpg", "https://h/b.jpg"]);
  j = applyEvent(j, { v: 1, type: "file", jobId: id, index: 0, total: 2, url: "https://h/a.jpg", name: "a.jpg", state: "downloading", bytes: 500, size: 1000, error: null, at: 1 });
  j = applyEvent(j, { v: 1, type: "file", jobId: id, index: 1, total: 2, url: "https://h/b.jpg", name: "b.jpg", state: "failed", bytes: 0, size: null, error: "HTTP 404", at: 2 });
  const lines = jobLines(j, 100);
  expect(lines.length).toBe(4);
  expect(lines[0]).toStartWith("[##########..........]  50%");
  expect(lines[0]).toContain("a.jpg");
  expect(lines[1]).toContain("failed: HTTP 404");
  expect(lines[2]).toContain("downloads: 0 done, 1 failed of 2");
  expect(lines[3]).toContain("zip: waiting");
  const before = lineKeys(j);
  j = applyEvent(j, { v: 1, type: "file", jobId: id, index: 0, total: 2, url: "https://h/a.jpg", name: "a.jpg", state: "downloading", bytes: 510, size: 1000, error: null, at: 3 });
  expect(lineKeys(j)).toEqual(before); // 1% more is not worth a log line
});
