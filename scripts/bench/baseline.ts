/**
 * @module baseline
 * What a person would do by hand: `curl --parallel` every URL into a temp
 * folder, `zip` the folder, sign a link for it (the same MD5 as nginx's
 * secure_link), then fetch the archive through an nginx (the corpus one,
 * which serves the output folder) for the "downloaded" time. Both sides
 * write the files to disk, zip them to a new file and serve it with nginx
 * sendfile; the fetch uses the same client (curl into /dev/null).
 */
import { mkdirSync, rmSync, statSync } from "node:fs";
import { signLink } from "../../servers/shared/link.ts";
import { newId } from "../../servers/shared/ids.ts";
import { curlDiscard, run } from "./exec.ts";

export type BaselineKind = "zip" | "zip-n" | "zip0";

export const BASELINES: Record<BaselineKind, { label: string; zipArgs: string[] }> = {
  zip: { label: "curl --parallel + zip -r", zipArgs: [] },
  "zip-n": { label: "curl --parallel + zip -r -n .jpg:...", zipArgs: ["-n", ".jpg:.jpeg:.png:.gif:.webp:.zip:.gz"] },
  zip0: { label: "curl --parallel + zip -0", zipArgs: ["-0"] },
};

export interface BaselineRun {
  kind: BaselineKind;
  /** start to signed link, ms */
  linkMs: number;
  /** start to archive fully fetched through nginx, ms */
  downloadedMs: number;
  archiveBytes: number;
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

/** One baseline run over `urls`; cleans up its files afterwards. */
export async function runBaseline(kind: BaselineKind, urls: string[], env: BaselineEnv): Promise<BaselineRun> {
  const id = newId();
  const dir = `${env.work}/${id}`;
  const archive = `${env.outDir}/${id}.zip`;
  mkdirSync(dir, { recursive: true });
  try {
    const t0 = performance.now();
    const curl = await run(["curl", "-sS", "--fail", "--parallel", "--parallel-max", "50", "--output-dir", dir, "--remote-name-all", ...urls]);
    const zip = await run(["zip", "-q", "-r", ...BASELINES[kind].zipArgs, archive, "."], { cwd: dir });
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
      phases: { curlMs: curl.ms, zipMs: zip.ms, signMs: t2 - t1, fetchMs: got.ms },
      cpuMs: { curl: curl.cpuMs, zip: zip.cpuMs },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(archive, { force: true });
  }
}

/** `gzip -6 -c FILES > /dev/null`: the reference deflate throughput on the same bytes. */
export async function gzipReference(paths: string[]): Promise<{ ms: number; cpuMs: number }> {
  const r = await run(["gzip", "-6", "-c", ...paths], { discard: true });
  return { ms: r.ms, cpuMs: r.cpuMs };
}
