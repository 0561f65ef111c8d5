/**
 * One row per URL of a job. `FileRow` is the row's frame (rendered once, with
 * the row's SSE swap target); `FileRowBody` is what the frame holds, rendered
 * both on page load and for every `file-<index>` event.
 */
import type { FileView } from "../../servers/shared/jobstate.ts";
import { bytes, fileName, fileSpeed, host, retryText, speed } from "../format.ts";
import { partName } from "../parts.ts";
import { Bar } from "./Bar.tsx";

const STATE_WORDS: Record<FileView["state"], string> = {
  queued: "waiting",
  downloading: "downloading",
  done: "done",
  failed: "failed",
};

export function FileRow(p: { file: FileView }) {
  const name = partName.file(p.file.index);
  return (
    <li class="file" id={name} sse-swap={name}>
      <FileRowBody file={p.file} />
    </li>
  );
}

function amount(f: FileView): string {
  if (f.state === "failed") return f.bytes ? `${bytes(f.bytes)} received` : "nothing received";
  if (f.state === "done") return bytes(f.bytes);
  if (f.total != null) return `${bytes(f.bytes)} of ${bytes(f.total)}`;
  return f.state === "queued" ? "size not known yet" : `${bytes(f.bytes)} of unknown size`;
}

export function FileRowBody(p: { file: FileView }) {
  const f = p.file;
  const name = fileName(f);
  const rate = fileSpeed(f);
  const value = f.state === "done" ? 1 : f.state === "failed" ? 0 : f.total ? f.bytes : f.state === "queued" ? 0 : null;
  const max = f.state === "done" ? 1 : f.total || 1;
  const pct = f.state === "done" ? "100%" : f.total ? `${Math.floor((100 * f.bytes) / f.total)}%` : "";
  const retry = retryText(f, Date.now());
  return (
    <div class={`file-body state-${f.state}`}>
      <div class="file-head">
        <span class="file-name" title={name}>{name}</span>
        <span class="file-host">{host(f.url)}</span>
        <span class={`badge badge-${f.state}`}>{STATE_WORDS[f.state]}</span>
      </div>
      <Bar
        label={`Download of ${name}`}
        hideLabel
        value={value}
        max={max}
        text={[amount(f), pct, f.state === "downloading" || f.state === "done" ? (rate ? speed(rate) : "") : ""].filter(Boolean).join(" · ")}
        tone={f.state === "done" ? "done" : f.state === "failed" ? "failed" : f.state === "queued" ? "idle" : "active"}
      />
      <p class="file-url">
        <a href={f.url} rel="noreferrer noopener" target="_blank">{f.url}</a>
      </p>
      {retry && (
        <p class="file-retry" role="status">
          {retry}
        </p>
      )}
      {f.error && (
        <p class="file-error" role="status">
          Could not download this file: {f.error}
        </p>
      )}
    </div>
  );
}
