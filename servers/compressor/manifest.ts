/**
 * @module manifest
 * What an archive says about itself, so a user never wonders whether a file
 * arrived whole or why one is missing:
 * - `MANIFEST.sha256`: one `<sha256>  <entry name>` line per file, the format
 *   `sha256sum -c MANIFEST.sha256` checks after unzipping. The hashes were
 *   computed by the downloader while each file streamed in; a file recorded
 *   without one (an older outcome) is read once here.
 * - `FAILED.txt`, when some URL failed: each failed URL with its reason.
 * Both names are reserved: a downloaded file never gets one (shared/names.ts).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { FileOutcome } from "../shared/jobfiles.ts";
import { FAILED_NAME, MANIFEST_NAME } from "../shared/names.ts";

/** A file going into the archive. */
export interface Entry {
  name: string;
  path: string;
  sha256?: string | null;
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** `sha256sum` escapes a name holding a backslash or a newline by a leading backslash; safe names hold neither, so none is needed. */
const line = (hash: string, name: string) => `${hash}  ${name}\n`;

/** The archive's own entries for `files` (in the order they are archived) and the job's `failed` outcomes. */
export async function manifestEntries(files: Entry[], failed: FileOutcome[]): Promise<{ name: string; data: Uint8Array<ArrayBuffer> }[]> {
  const enc = new TextEncoder();
  let manifest = "";
  for (const f of files) manifest += line(f.sha256 ?? (await sha256Of(f.path)), f.name);
  const out = [{ name: MANIFEST_NAME, data: enc.encode(manifest) }];
  if (failed.length > 0) {
    let text = `${failed.length} of the job's URLs could not be downloaded:\n\n`;
    for (const o of failed) text += `${o.url}\n  ${o.error ?? "unknown error"}\n`;
    out.push({ name: FAILED_NAME, data: enc.encode(text) });
  }
  return out;
}
