/** @module machine  What the report says about the machine and the tools it ran on. */
import { cpus, loadavg, release, totalmem } from "node:os";
import { nginxBinary } from "../lib/nginx.ts";
import type { Args } from "./args.ts";
import { versionOf } from "./exec.ts";
import type { Meta } from "./results.ts";

export function machineMeta(args: Args): Meta {
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "?",
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: `Linux ${release()}`,
    bun: Bun.version,
    tools: {
      nginx: versionOf([nginxBinary(), "-v"], /nginx\/\S+/),
      curl: versionOf(["curl", "--version"], /curl \S+/),
      zip: versionOf(["zip", "-h"], /Zip \S+/),
      gzip: versionOf(["gzip", "--version"], /gzip \S+/),
    },
    rounds: args.rounds,
    loadStart: loadavg()[0]!,
    loadEnd: NaN,
    args: args.raw,
  };
}
