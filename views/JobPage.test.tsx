import { expect, test } from "bun:test";
import { applyEvent, newJob } from "../servers/shared/jobstate.ts";
import { allParts, renderPart } from "./fragments.tsx";
import { JobPage } from "./JobPage.tsx";

const id = "f".repeat(32);
const render = (node: unknown) => String(node);

test("a running job: connects to its event stream; every live part is a swap target holding what the stream sends", () => {
  const job = newJob(id, ["https://h.example/a.jpg", "https://h.example/b.jpg"], new Date(0));
  const html = render(<JobPage job={job} now={5000} />);
  expect(html).toContain(`sse-connect="/jobs/${id}/events"`);
  expect(html).toContain(`sse-close="done"`);
  for (const name of allParts(job)) {
    expect(html).toContain(`sse-swap="${name}"`);
    // The first load and the SSE update render the same markup.
    expect(html).toContain(renderPart(name, job, 5000));
  }
});

test("a finished job: the link, the countdown to its expiry and no connection", () => {
  let job = newJob(id, ["https://h.example/a.jpg"], new Date(0));
  job = applyEvent(job, { v: 1, type: "file", jobId: id, index: 0, total: 1, url: "https://h.example/a.jpg", name: "a.jpg", state: "done", bytes: 10, size: 10, error: null, at: 1 });
  job = applyEvent(job, { v: 1, type: "link", jobId: id, link: "http://n.example/d/x.zip?md5=a&expires=9", expiresAt: new Date(65_000).toISOString(), bytes: 120, entries: 1, at: 2000 });
  const html = render(<JobPage job={job} now={5000} />);
  expect(html).not.toContain("sse-connect");
  expect(html).toContain(`value="http://n.example/d/x.zip?md5=a&amp;expires=9"`);
  expect(html).toContain(`data-until="65000"`);
  expect(html).toContain(">1:00<");
  expect(html).toContain("Took");
});

test("a failed job says why, in words", () => {
  let job = newJob(id, ["https://h.example/a.jpg"], new Date(0));
  job = applyEvent(job, { v: 1, type: "file", jobId: id, index: 0, total: 1, url: "https://h.example/a.jpg", name: null, state: "failed", bytes: 0, size: null, error: "HTTP 404 Not Found", at: 1 });
  job = applyEvent(job, { v: 1, type: "failed", jobId: id, error: "none of the 1 files could be downloaded", at: 2 });
  const html = render(<JobPage job={job} now={5000} />);
  expect(html).toContain("Could not download this file: HTTP 404 Not Found");
  expect(html).toContain("none of the 1 files could be downloaded");
  expect(html).toContain('role="alert"');
});
