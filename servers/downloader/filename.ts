/**
 * @module filename
 * The name of a download: from Content-Disposition or the last URL path
 * segment, with an extension from Content-Type when it has none, made safe
 * by the one sanitiser (shared/names.ts). The compressor makes names unique.
 */
import { sanitizeName, splitExtension } from "../shared/names.ts";
import { dispositionFilename } from "./disposition.ts";

const TYPES: Record<string, string> = {
  "image/jpeg": ".jpg",
  "image/png": ".png",
  "image/gif": ".gif",
  "image/webp": ".webp",
  "image/avif": ".avif",
  "image/svg+xml": ".svg",
  "image/tiff": ".tif",
  "application/pdf": ".pdf",
  "application/zip": ".zip",
  "application/gzip": ".gz",
  "application/x-gzip": ".gz",
  "application/x-tar": ".tar",
  "application/json": ".json",
  "application/xml": ".xml",
  "text/xml": ".xml",
  "text/plain": ".txt",
  "text/html": ".html",
  "text/css": ".css",
  "text/csv": ".csv",
  "text/markdown": ".md",
  "text/javascript": ".js",
  "application/javascript": ".js",
  "audio/mpeg": ".mp3",
  "audio/ogg": ".ogg",
  "audio/wav": ".wav",
  "video/mp4": ".mp4",
  "video/webm": ".webm",
};

/** The usual extension for a Content-Type ("" if unknown or generic). */
export function extensionFor(contentType: string | null | undefined): string {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return TYPES[type] ?? "";
}

/** The last path segment of a URL, percent-decoded (kept raw if the encoding is broken). */
export function urlName(url: URL): string {
  const seg = url.pathname.split("/").pop() ?? "";
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg;
  }
}

/**
 * The safe name for URL `index` of a job: Content-Disposition's name, else
 * the URL's last segment, else `file-<index+1>`; an extension from
 * Content-Type is added when the name has none.
 */
export function chooseName(o: { disposition?: string | null; url: URL; contentType?: string | null; index: number }): string {
  const ext = extensionFor(o.contentType);
  const name = sanitizeName(dispositionFilename(o.disposition) ?? "") || sanitizeName(urlName(o.url));
  if (!name) return `file-${o.index + 1}${ext}`;
  if (!splitExtension(name)[1] && ext) return sanitizeName(name + ext);
  return name;
}
