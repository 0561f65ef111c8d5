/** The job page. */
import type { JobView } from "../servers/shared/jobstate.ts";
import { Layout } from "./Layout.tsx";

export function JobPage(p: { job: JobView }) {
  const { job } = p;
  return (
    <Layout title={`linkpack job ${job.id}`}>
      <h1>Job {job.id}</h1>
      <p>State: {job.state}</p>
      <ul>
        {job.files.map((f) => (
          <li>
            {f.url} — {f.state} {f.bytes}
            {f.error && ` (${f.error})`}
          </li>
        ))}
      </ul>
      {job.link && <a href={job.link}>Download</a>}
    </Layout>
  );
}
