/**
 * The job page: the overall and compression bars, one row per file, the
 * server clock and, at the end, the link. While the job runs the page listens
 * to `/jobs/<id>/events` (htmx SSE extension); each live part is an
 * `sse-swap` target whose content the bridge renders with the same component.
 */
import { isFinal, type JobView } from "../servers/shared/jobstate.ts";
import { Layout } from "./Layout.tsx";
import { partName } from "./parts.ts";
import { Clock } from "./parts/Clock.tsx";
import { Compress } from "./parts/Compress.tsx";
import { FileRow } from "./parts/FileRow.tsx";
import { Overall } from "./parts/Overall.tsx";
import { Result } from "./parts/Result.tsx";

export function JobPage(p: { job: JobView; now?: number }) {
  const { job } = p;
  const now = p.now ?? Date.now();
  // A finished job is rendered in full and needs no connection.
  const live = isFinal(job.state) ? {} : { "hx-ext": "sse", "sse-connect": `/jobs/${job.id}/events`, "sse-close": partName.done };
  return (
    <Layout title={`linkpack · job ${job.id.slice(0, 8)}`} now={now}>
      <main class="job" {...live}>
        <div class="job-head">
          <h1>
            Job <code title={job.id}>{job.id.slice(0, 8)}</code>
          </h1>
          <div id={partName.clock} sse-swap={partName.clock}>
            <Clock job={job} now={now} />
          </div>
        </div>
        <section class="card summary" aria-label="Progress">
          <div id={partName.overall} sse-swap={partName.overall} aria-live="polite">
            <Overall job={job} />
          </div>
          <div id={partName.compress} sse-swap={partName.compress} aria-live="polite">
            <Compress job={job} />
          </div>
        </section>
        <section class="card" id={partName.link} sse-swap={partName.link} aria-live="polite">
          <Result job={job} now={now} />
        </section>
        <section class="card" aria-labelledby="files-title">
          <h2 id="files-title">Files</h2>
          <ol class="files" aria-live="polite">
            {job.files.map((f) => (
              <FileRow file={f} />
            ))}
          </ol>
        </section>
      </main>
    </Layout>
  );
}
