/**
 * @module fragments
 * Renders the job page's live parts to HTML strings for the SSE bridge, with
 * the same components the page renders on first load.
 */
import type { JobView } from "../servers/shared/jobstate.ts";
import { partName } from "./parts.ts";
import { Clock } from "./parts/Clock.tsx";
import { Compress } from "./parts/Compress.tsx";
import { FileRowBody } from "./parts/FileRow.tsx";
import { Overall } from "./parts/Overall.tsx";
import { Result } from "./parts/Result.tsx";

const html = (node: unknown): string => {
  const s = (node as { toString(): unknown }).toString();
  if (typeof s !== "string") throw new Error("a page part rendered asynchronously");
  return s;
};

/** The HTML of one part (`file-3`, `overall`, `compress`, `clock`, `link`) of `job` at server time `now`. */
export function renderPart(name: string, job: JobView, now: number): string {
  switch (name) {
    case partName.overall:
      return html(<Overall job={job} />);
    case partName.compress:
      return html(<Compress job={job} />);
    case partName.clock:
      return html(<Clock job={job} now={now} />);
    case partName.link:
      return html(<Result job={job} now={now} />);
  }
  const m = /^file-(\d+)$/.exec(name);
  const file = m ? job.files[Number(m[1])] : undefined;
  if (!file) throw new Error(`no page part named ${name}`);
  return html(<FileRowBody file={file} />);
}

/** Every part of the page, in page order (for a client's first state). */
export function allParts(job: JobView): string[] {
  return [partName.clock, partName.overall, partName.compress, partName.link, ...job.files.map((f) => partName.file(f.index))];
}
