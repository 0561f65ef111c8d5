/**
 * @module corpora
 * The benchmark's input files, generated deterministically (no downloads)
 * into `.bench/corpora/<version>/<corpus>/` and cached between runs: a
 * corpus counts as present once its manifest, written last, exists for the
 * current `CORPUS_VERSION`. Bump the version whenever a generator changes.
 *
 *  - photos: the 10 real JPEG/PNG images of scripts/lib/samples.ts `photoSet()`
 *  - text:   10 CSV / JSON-lines / log files, 0.5-5 MB each (deflate to ~20-35%)
 *  - big:    one 1 GiB incompressible file (AES-256-CTR keystream)
 */
import { createCipheriv } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { photoSet, textFile, type TextKind } from "../lib/samples.ts";

export const CORPUS_VERSION = "v1";
export const CORPUS_NAMES = ["photos", "text", "big"] as const;
export type CorpusName = (typeof CORPUS_NAMES)[number];

export interface CorpusFile {
  name: string;
  bytes: number;
}
export interface Corpus {
  name: CorpusName;
  /** folder holding the files; served by the corpus nginx as `/<version>/<name>/<file>` */
  dir: string;
  /** URL path prefix under the corpus root */
  urlPath: string;
  files: CorpusFile[];
  totalBytes: number;
}

export const BIG_BYTES = 1024 ** 3;
const MB = 1_000_000;
const TEXT_FILES: [TextKind, number][] = [
  ["csv", 0.5], ["log", 1], ["json", 1.5], ["csv", 2], ["log", 2.5],
  ["json", 3], ["csv", 3.5], ["log", 4], ["json", 4.5], ["csv", 5],
];

/**
 * Writes `bytes` of AES-256-CTR keystream (fixed key and IV) to `path` in
 * 8 MiB chunks: incompressible, deterministic, and generated at ~1 GB/s.
 */
export async function writeKeystream(path: string, bytes: number): Promise<void> {
  const cipher = createCipheriv("aes-256-ctr", Buffer.alloc(32, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(8 * 1024 * 1024);
  const fh = await open(path, "w");
  try {
    for (let left = bytes; left > 0; ) {
      const n = Math.min(left, zeros.length);
      await fh.write(cipher.update(zeros.subarray(0, n)));
      left -= n;
    }
  } finally {
    await fh.close();
  }
}

async function generate(name: CorpusName, dir: string): Promise<void> {
  if (name === "photos") {
    for (const p of photoSet()) writeFileSync(`${dir}/${p.name}`, p.bytes);
  } else if (name === "text") {
    TEXT_FILES.forEach(([kind, mb], i) => {
      const ext = kind === "json" ? "jsonl" : kind;
      writeFileSync(`${dir}/${String(i + 1).padStart(2, "0")}-${kind}.${ext}`, textFile(kind, mb * MB, 1000 + i));
    });
  } else {
    await writeKeystream(`${dir}/big.bin`, BIG_BYTES);
  }
}

/** The corpus, generated first if it is not cached under `root` for the current version. */
export async function ensureCorpus(root: string, name: CorpusName, say: (s: string) => void = () => {}): Promise<Corpus> {
  const base = `${root}/${CORPUS_VERSION}`;
  const dir = `${base}/${name}`;
  const manifest = `${base}/${name}.json`;
  if (!existsSync(manifest)) {
    say(`generating corpus ${name} (${CORPUS_VERSION})...`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await generate(name, dir);
    const files = readdirSync(dir).sort().map((f) => ({ name: f, bytes: Bun.file(`${dir}/${f}`).size }));
    writeFileSync(manifest, JSON.stringify({ version: CORPUS_VERSION, files }, null, 1));
  }
  const files = (JSON.parse(readFileSync(manifest, "utf8")) as { files: CorpusFile[] }).files;
  return { name, dir, urlPath: `/${CORPUS_VERSION}/${name}`, files, totalBytes: files.reduce((s, f) => s + f.bytes, 0) };
}

/** Removes the corpora of other versions (the big file is 1 GiB). */
export function pruneOldVersions(root: string): void {
  if (!existsSync(root)) return;
  for (const d of readdirSync(root)) if (d !== CORPUS_VERSION) rmSync(`${root}/${d}`, { recursive: true, force: true });
}
