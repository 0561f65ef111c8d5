/** The job's headline: its state in words and the overall download bar. */
import type { JobView } from "../../servers/shared/jobstate.ts";
import { bytes, overall } from "../format.ts";
import { Bar } from "./Bar.tsx";

const HEADLINE: Record<JobView["state"], string> = {
  queued: "Waiting for a downloader…",
  downloading: "Downloading the files…",
  compressing: "Packing the zip…",
  ready: "All done",
  failed: "Nothing could be packed",
  cancelled: "Cancelled",
};

export function Overall(p: { job: JobView }) {
  const { job } = p;
  const o = overall(job);
  const files = `${o.done} of ${o.count} file${o.count === 1 ? "" : "s"} done`;
  const size = o.expected != null ? `${bytes(o.got)} of ${bytes(o.expected)}` : `${bytes(o.got)}`;
  return (
    <div class={`overall state-${job.state}`}>
      <p class="headline">
        <span class={`badge badge-${job.state}`}>{job.state}</span> {HEADLINE[job.state]}
      </p>
      <Bar
        label="All downloads"
        value={o.percent}
        max={100}
        text={`${files} · ${size} · ${o.percent}%`}
        tone={job.state === "failed" ? "failed" : o.percent >= 100 ? "done" : "active"}
      />
      {o.failed > 0 && (
        <p class="note">
          {o.failed === 1 ? "1 file" : `${o.failed} files`} could not be downloaded
          {job.state === "ready" ? (o.failed === 1 ? " and is not in the zip" : " and are not in the zip") : ""}.
        </p>
      )}
    </div>
  );
}
