/**
 * The server clock (from the clock server's ticks) and the job's elapsed
 * time. `data-now` lets the page's script count down the link's expiry
 * against the server's time, not the visitor's.
 */
import type { JobView } from "../../servers/shared/jobstate.ts";
import { clockTime, duration, elapsed } from "../format.ts";

export function Clock(p: { job: JobView; now: number }) {
  const { job, now } = p;
  const finished = job.finished_at != null;
  return (
    <dl class="clock">
      <div>
        <dt>Server time</dt>
        <dd>
          <time datetime={new Date(now).toISOString()} data-now={now}>{clockTime(now)}</time>
        </dd>
      </div>
      <div>
        <dt>{finished ? "Took" : "Elapsed"}</dt>
        <dd data-since={finished ? undefined : Date.parse(job.created_at)}>{duration(elapsed(job, now))}</dd>
      </div>
    </dl>
  );
}
