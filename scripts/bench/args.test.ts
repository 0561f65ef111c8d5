import { describe, expect, test } from "bun:test";
import { parseArgs, UsageError } from "./args.ts";

describe("bench arguments", () => {
  test("defaults: 5 rounds, every corpus, 200 jobs, every section", () => {
    expect(parseArgs([])).toMatchObject({ rounds: 5, corpora: ["photos", "text", "big"], jobs: 200, throughput: true, events: true, soak: true, soakJobs: 2000, out: "BENCHMARKS.md" });
  });

  test("--quick: 2 rounds, no big; explicit options still win", () => {
    expect(parseArgs(["--quick"])).toMatchObject({ rounds: 2, corpora: ["photos", "text"], jobs: 20, soakJobs: 600 });
    expect(parseArgs(["--quick", "--soak-jobs", "50"])).toMatchObject({ soakJobs: 50 });
    expect(parseArgs(["--quick", "--rounds", "3", "--corpus", "big,photos"])).toMatchObject({ rounds: 3, corpora: ["photos", "big"] });
  });

  test("--skip leaves sections out", () => {
    expect(parseArgs(["--skip", "events"])).toMatchObject({ throughput: true, events: false });
    expect(parseArgs(["--skip", "throughput,events"])).toMatchObject({ throughput: false, events: false, soak: true });
    expect(parseArgs(["--skip", "soak"])).toMatchObject({ throughput: true, events: true, soak: false });
  });

  test("bad input is a UsageError", () => {
    for (const argv of [["--rounds", "0"], ["--rounds"], ["--soak-jobs", "x"], ["--corpus", "video"], ["--fast"]]) expect(() => parseArgs(argv)).toThrow(UsageError);
  });
});
