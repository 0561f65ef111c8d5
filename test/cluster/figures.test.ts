/** The cluster test's own pieces that need no root: its files and its BENCHMARKS.md section. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileBytes, filePath, parsePath, sha256 } from "./content.ts";
import { writeBenchmarks, type Figures } from "./figures.ts";

const figures = (jobs: number): Figures => ({
  date: "2026-01-01",
  jobs,
  filesPerJob: 10,
  bytes: 1e6,
  wallSeconds: 12,
  setupSeconds: { rabbitmq: 30 },
  failovers: { "broker reconnects": 2 },
  faults: ["[1.0 s] kill -9 web on web1"],
  checks: [{ name: "every job ready", ok: true, detail: "" }],
});

describe("cluster test files", () => {
  test("a path gives its size, and the same bytes every time; paths differ, bytes differ", () => {
    const p = filePath({ tag: "t-j1", size: 1000, ms: 5, name: "f0.txt" });
    expect(parsePath(p)).toEqual({ tag: "t-j1", size: 1000, ms: 5, name: "f0.txt" });
    expect(fileBytes(p).length).toBe(1000);
    expect(sha256(fileBytes(p))).toBe(sha256(fileBytes(p)));
    expect(sha256(fileBytes(filePath({ tag: "t-j2", size: 1000, ms: 5, name: "f0.txt" })))).not.toBe(sha256(fileBytes(p)));
    expect(parsePath("/f/../etc/1/1/x")).toBeNull();
  });
});

describe("BENCHMARKS.md cluster section", () => {
  test("is appended once, then replaced in place, the sections around it kept", () => {
    const dir = mkdtempSync(`${tmpdir()}/lp-figures-`);
    const path = `${dir}/BENCHMARKS.md`;
    try {
      writeFileSync(path, "# Benchmarks\n\n## photos\n\nrows\n");
      writeBenchmarks(figures(100), path);
      writeBenchmarks(figures(7), path);
      const text = readFileSync(path, "utf8");
      expect(text.match(/## Cluster: /g)).toHaveLength(1);
      expect(text).toContain("## Cluster: 7 10-file jobs");
      expect(text.startsWith("# Benchmarks\n\n## photos\n\nrows\n")).toBe(true);
      writeFileSync(path, text.replace("## Cluster:", "## Before\n\nx\n\n## Cluster:") + "\n## After\n\ny\n");
      writeBenchmarks(figures(3), path);
      const again = readFileSync(path, "utf8");
      expect(again).toContain("## Cluster: 3 10-file jobs");
      expect(again).toContain("## Before\n\nx\n");
      expect(again).toContain("## After\n\ny\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
