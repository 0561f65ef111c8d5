/**
 * The end of a job: the signed link with a copy button and its expiry as a
 * countdown (against the server clock), or why the job failed, or that it
 * was cancelled. Until then, a Cancel button (a plain form post, so it works
 * without JavaScript).
 */
import type { JobView } from "../../servers/shared/jobstate.ts";
import { bytes, clockTime, countdown } from "../format.ts";

export function Result(p: { job: JobView; now: number }) {
  const { job, now } = p;
  if (job.state === "failed")
    return (
      <div class="result result-failed" role="alert">
        <h2>No archive</h2>
        <p>{job.error ?? "The job failed."}</p>
        <p>
          <a href="/">Try other URLs</a>
        </p>
      </div>
    );
  if (job.state === "cancelled")
    return (
      <div class="result result-failed" role="status">
        <h2>Cancelled</h2>
        <p>This job was cancelled: nothing was packed, and its downloaded files are gone.</p>
        <p>
          <a href="/">Pack other URLs</a>
        </p>
      </div>
    );
  if (job.state !== "ready" || !job.link)
    return (
      <div class="result result-waiting">
        <h2>Download link</h2>
        <p class="muted">The link appears here as soon as the zip is ready.</p>
        <form method="post" action={`/jobs/${job.id}/cancel`} class="cancel-form">
          <button type="submit" class="button">Cancel this job</button>
        </form>
      </div>
    );
  const expires = job.expires_at ? Date.parse(job.expires_at) : null;
  const entries = job.files.filter((f) => f.state === "done").length;
  return (
    <div class="result result-ready">
      <h2>Your zip is ready</h2>
      <p>
        {entries} file{entries === 1 ? "" : "s"}
        {job.archive_bytes != null && `, ${bytes(job.archive_bytes)}`}. The link works for one download.
      </p>
      <div class="linkbox">
        <label for="link-url" class="sr-only">Download link</label>
        <input id="link-url" class="link-url" type="text" readonly value={job.link} />
        <button type="button" class="button" data-copy="link-url">Copy link</button>
        <a class="button primary" href={job.link} download>Download zip</a>
      </div>
      {expires != null && (
        <p class="expiry">
          Expires in <strong><time datetime={job.expires_at!} data-until={expires}>{countdown(expires - now)}</time></strong>{" "}
          (at {clockTime(expires)}).
        </p>
      )}
      <p class="copy-status sr-only" aria-live="polite"></p>
    </div>
  );
}
