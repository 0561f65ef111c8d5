/**
 * @module figures
 * The cluster run's figures: printed, and written into BENCHMARKS.md as its
 * "Cluster" section (replaced on each run that asks for it).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { ROOT } from "../../servers/shared/config.ts";

export interface Figures {
  date: string;
  jobs: number;
  filesPerJob: number;
  bytes: number;
  wallSeconds: number;
  setupSeconds: Record<string, number>;
  failovers: Record<string, number>;
  faults: string[];
  checks: { name: string; ok: boolean; detail: string }[];
}

const HEADING = "## Cluster: ";

export function render(f: Figures): string {
  const lines = [
    `${HEADING}${f.jobs} ${f.filesPerJob}-file jobs across network namespaces in ${f.wallSeconds.toFixed(0)} s`,
    "",
    `\`bun run test:cluster\` (${f.date}): 3 RabbitMQ nodes in one cluster, 1 PostgreSQL, 2 web, 2 downloaders, 2 compressors, 2 nginx + guard, 1 file host, each host a network namespace on one bridge, its parts started by \`bun run start --parts\` with AMQP_URL listing all three nodes, QUEUE_TYPE=quorum and DATABASE_URL; one shared folder for downloads and archives. Jobs go in through alternating web hosts while the faults below land.`,
    "",
    "| figure | value |",
    "|---|---|",
    `| jobs / files | ${f.jobs} / ${f.jobs * f.filesPerJob} |`,
    `| bytes downloaded | ${(f.bytes / 1e6).toFixed(1)} MB |`,
    `| wall time, first post to last job ready | ${f.wallSeconds.toFixed(1)} s |`,
    `| set-up | ${Object.entries(f.setupSeconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")} |`,
    ...Object.entries(f.failovers).map(([k, v]) => `| ${k} | ${v} |`),
    "",
    "Faults, in order:",
    "",
    ...f.faults.map((e) => `- ${e}`),
    "",
    "Checks:",
    "",
    ...f.checks.map((c) => `- ${c.ok ? "passed" : "FAILED"}: ${c.name}${c.detail ? ` — ${c.detail}` : ""}`),
    "",
  ];
  return lines.join("\n");
}

/** Replaces (or appends) BENCHMARKS.md's cluster section. */
export function writeBenchmarks(f: Figures, path = `${ROOT}/BENCHMARKS.md`): void {
  const text = readFileSync(path, "utf8");
  const start = text.indexOf(HEADING);
  const section = render(f);
  if (start < 0) {
    writeFileSync(path, `${text.trimEnd()}\n\n${section}`);
    return;
  }
  const next = text.indexOf("\n## ", start + HEADING.length);
  writeFileSync(path, text.slice(0, start) + section + (next < 0 ? "" : text.slice(next + 1)));
}
