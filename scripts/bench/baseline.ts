/**
 * @module baseline
 * What a person would do by hand: `curl --parallel` every URL into a temp
 * folder, `zip` the folder, fsync the archive (linkpack makes its archives
 * durable, so every pipeline does), sign a link for it (the same MD5 as
 * nginx's secure_link), then fetch the archive through an nginx (the corpus
 * one, which serves the output folder) for the "downloaded" time. Both sides
 * write the files to disk, zip them to a new file, fsync it and serve it
 * with nginx sendfile; the fetch uses the same client (curl into /dev/null).
 * The floor (runFloor) is the least any pipeline must do: download alone,
 * then write the bytes once into one file and fsync it.
 */
import { BackgroundSync } from "../../servers/shared/writeback.ts";
import { startWriteback } from "../../servers/compressor/fileranges.ts";
import { KICK_BYTES } from "../../servers/compressor/zipwriter.ts";
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { signLink } from "../../servers/shared/link.ts";
import { newId } from "../../servers/shared/ids.ts";
import { curlDiscard, run } from "./exec.ts";

export type BaselineKind = "zip" | "zip-n" | "zip0";

export const BASELINES: Record<BaselineKind, { label: string; zipArgs: string[] }> = {
  zip: { label: "curl --parallel + zip -r + fsync", zipArgs: [] },
  "zip-n": { label: "curl --parallel + zip -n (store media) + fsync", zipArgs: ["-n", ".jpg:.jpeg:.png:.gif:.webp:.zip:.gz"] },
  zip0: { label: "curl --parallel + zip -0 + fsync", zipArgs: ["-0"] },
};

export interface BaselineRun {
  kind: BaselineKind;
  /** start to signed link, ms */
  linkMs: number;
  /** start to archive fully fetched through nginx, ms */
  downloadedMs: number;
  archiveBytes: number;
  /** zipMs includes the archive's fsync */
  phases: { curlMs: number; zipMs: number; signMs: number; fetchMs: number };
  cpuMs: { curl: number; zip: number };
}

export interface BaselineEnv {
  /** scratch folder for the downloads */
  work: string;
  /** folder the corpus nginx serves as /out/ */
  outDir: string;
  origin: string;
  secret: string;
}

/** fsync(2) of one file, in this process (the cheapest way a pipeline can make its archive durable). */
export function fsyncFile(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** `curl --parallel` of every URL into `dir`. */
const curlAll = (urls: string[], dir: string) => run(["curl", "-sS", "--fail", "--parallel", "--parallel-max", "50", "--output-dir", dir, "--remote-name-all", ...urls]);

/** One baseline run over `urls`; cleans up its files afterwards. */
export async function runBaseline(kind: BaselineKind, urls: string[], env: BaselineEnv): Promise<BaselineRun> {
  const id = newId();
  const dir = `${env.work}/${id}`;
  const archive = `${env.outDir}/${id}.zip`;
  mkdirSync(dir, { recursive: true });
  try {
    const t0 = performance.now();
    const curl = await curlAll(urls, dir);
    const z0 = performance.now();
    const zip = await run(["zip", "-q", "-r", ...BASELINES[kind].zipArgs, archive, "."], { cwd: dir });
    fsyncFile(archive);
    const t1 = performance.now();
    const link = signLink(env.origin, `/out/${id}.zip`, Math.floor(Date.now() / 1000) + 3600, env.secret);
    const t2 = performance.now();
    const got = await curlDiscard(link);
    const t3 = performance.now();
    const archiveBytes = statSync(archive).size;
    if (got.status !== 200 || got.bytes !== archiveBytes) throw new Error(`baseline fetch: ${got.status}, ${got.bytes} of ${archiveBytes} bytes`);
    return {
      kind,
      linkMs: t2 - t0,
      downloadedMs: t3 - t0,
      archiveBytes,
      phases: { curlMs: curl.ms, zipMs: t1 - z0, signMs: t2 - t1, fetchMs: got.ms },
      cpuMs: { curl: curl.cpuMs, zip: zip.cpuMs },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(archive, { force: true });
  }
}

export interface FloorRun {
  /** downloadMs + archiveMs */
  linkMs: number;
  /** `curl --parallel` of every URL into a folder, alone */
  downloadMs: number;
  /** the downloaded files' bytes written once into one new file (1 MiB reads and writes, no compression, the disk asked to write each megabyte at once and a background datasync every 32 MiB, as linkpack's zip writer does) and fsynced, alone */
  archiveMs: number;
}

/**
 * The physical floor of a run over `urls`: what every pipeline must do at
 * least — fetch the bytes to disk, then write them once more into one file
 * and make it durable — each step timed alone, one after the other.
 */
export async function runFloor(urls: string[], env: BaselineEnv): Promise<FloorRun> {
  const id = newId();
  const dir = `${env.work}/${id}`;
  const out = `${env.work}/${id}.bin`;
  mkdirSync(dir, { recursive: true });
  try {
    const curl = await curlAll(urls, dir);
    const t0 = performance.now();
    const fh = await open(out, "wx");
    try {
      const buf = new Uint8Array(1024 * 1024);
      // the same early write-back as linkpack's zip writer: each megabyte handed to the disk at once, a background datasync every 32 MiB
      const writeBack = new BackgroundSync(fh);
      let written = 0, kicked = 0;
      for (const name of readdirSync(dir).sort()) {
        const src = await open(`${dir}/${name}`, "r");
        try {
          for (let n; (n = (await src.read(buf, 0, buf.length, null)).bytesRead) > 0; ) {
            for (let off = 0; off < n; ) off += (await fh.write(buf, off, n - off)).bytesWritten;
            written += n;
            if (written - kicked >= KICK_BYTES) startWriteback(fh.fd, kicked, written - kicked), (kicked = written);
            writeBack.wrote(written);
          }
        } finally {
          await src.close();
        }
      }
      await writeBack.idle();
      if (writeBack.failure) throw writeBack.failure;
      await fh.sync();
    } finally {
      await fh.close();
    }
    const archiveMs = performance.now() - t0;
    return { linkMs: curl.ms + archiveMs, downloadMs: curl.ms, archiveMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(out, { force: true });
  }
}

/**
 * `n` jobs of `urls` by the best hand-made pipeline, `parallel` at once:
 * each `curl --parallel` + `zip -n` (store media) + fsync of its archive.
 * Returns the wall time of all and each job's time.
 */
export async function runPipelineJobs(urls: string[], env: BaselineEnv, n: number, parallel: number): Promise<{ wallMs: number; jobMs: number[] }> {
  const jobMs: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (next < n) {
      next++;
      const id = newId();
      const dir = `${env.work}/${id}`;
      const archive = `${env.outDir}/${id}.zip`;
      mkdirSync(dir, { recursive: true });
      try {
        const s = performance.now();
        await curlAll(urls, dir);
        await run(["zip", "-q", "-r", ...BASELINES["zip-n"].zipArgs, archive, "."], { cwd: dir });
        fsyncFile(archive);
        signLink(env.origin, `/out/${id}.zip`, Math.floor(Date.now() / 1000) + 3600, env.secret);
        jobMs.push(performance.now() - s);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        rmSync(archive, { force: true });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, lane));
  return { wallMs: performance.now() - t0, jobMs };
}

/** `gzip -6 -c FILES > /dev/null`: the reference deflate throughput on the same bytes. */
export async function gzipReference(paths: string[]): Promise<{ ms: number; cpuMs: number }> {
  const r = await run(["gzip", "-6", "-c", ...paths], { discard: true });
  return { ms: r.ms, cpuMs: r.cpuMs };
}
