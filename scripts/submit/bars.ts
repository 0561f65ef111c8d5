/**
 * @module bars
 * Text progress for `bun run submit`: one line per file, the overall and the
 * compression bar, from a JobView (the same numbers the page shows). Pure:
 * returns lines; the caller decides to redraw them in place (a TTY) or to
 * print only the lines that changed meaningfully (a log).
 */
import type { FileView, JobView } from "../../servers/shared/jobstate.ts";
import { bytes, fileFraction, fileName, fileSpeed, overall, retryText, speed } from "../../views/format.ts";

/** `[#######.......]` of `width` cells for a fraction 0..1 (null: unknown). */
export function bar(fraction: number | null, width: number): string {
  if (fraction === null) return `[${"?".repeat(width)}]`;
  const full = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${"#".repeat(full)}${".".repeat(width - full)}]`;
}

const pct = (f: number) => `${String(Math.floor(f * 100)).padStart(3)}%`;
const fit = (s: string, n: number) => (s.length <= n ? s.padEnd(n) : `${s.slice(0, n - 1)}…`);

function fileLine(f: FileView, cols: number): string {
  const known = f.state !== "downloading" || (f.total ?? 0) > 0;
  const frac = f.state === "failed" ? 0 : known ? fileFraction(f) : null;
  const amount = f.state === "done" ? bytes(f.bytes) : f.total != null ? `${bytes(f.bytes)}/${bytes(f.total)}` : bytes(f.bytes);
  const rate = f.state === "downloading" ? fileSpeed(f) : null;
  const tail =
    f.state === "failed" ? `failed: ${f.error ?? "unknown error"}` : f.state === "done" ? "done" : (retryText(f, Date.now()) ?? (rate ? speed(rate) : f.state === "queued" ? "waiting" : ""));
  const head = `${bar(frac, 20)} ${frac === null ? "   ?" : pct(frac)} ${amount.padStart(17)}  `;
  const nameWidth = Math.max(12, Math.min(32, cols - head.length - 24));
  return `${head}${fit(fileName(f), nameWidth)}  ${tail}`.slice(0, Math.max(cols - 1, 40));
}

/** The lines for `job` at terminal width `cols`. */
export function jobLines(job: JobView, cols = 100): string[] {
  const o = overall(job);
  const lines = job.files.map((f) => fileLine(f, cols));
  lines.push(`${bar(o.percent / 100, 20)} ${pct(o.percent / 100)} downloads: ${o.done} done, ${o.failed} failed of ${o.count} (${bytes(o.got)})`);
  const c = job.state === "ready" ? 100 : job.compress.percent;
  lines.push(`${bar(c / 100, 20)} ${pct(c / 100)} zip: ${job.state === "compressing" ? "packing" : job.state === "ready" ? "done" : job.state === "failed" ? "not made" : "waiting for downloads"}`);
  return lines;
}

/** A coarse fingerprint of each line (state, quarter of progress) so a log prints a line only when it moved on. */
export function lineKeys(job: JobView): string[] {
  const keys = job.files.map((f) => `${f.state}:${Math.floor(fileFraction(f) * 4)}:${f.error ?? ""}`);
  keys.push(`overall:${overall(job).done + overall(job).failed}`);
  keys.push(`zip:${job.state}:${Math.floor((job.state === "ready" ? 100 : job.compress.percent) / 25)}`);
  return keys;
}
