/** The compression bar (the compressor reports 0..100 %). */
import type { JobView } from "../../servers/shared/jobstate.ts";
import { Bar } from "./Bar.tsx";

export function Compress(p: { job: JobView }) {
  const { job } = p;
  const pct = job.compress.percent;
  const started = job.state === "compressing" || job.state === "ready" || pct > 0;
  const text =
    job.state === "ready" ? "100% · done" : job.state === "failed" ? "not made" : started ? `${pct}%` : "waits for the downloads";
  return (
    <Bar
      label="Zip archive"
      value={job.state === "ready" ? 100 : pct}
      max={100}
      text={text}
      tone={job.state === "ready" ? "done" : job.state === "failed" ? "failed" : started ? "active" : "idle"}
    />
  );
}
