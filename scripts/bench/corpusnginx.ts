/**
 * @module corpusnginx
 * The bench's own nginx on loopback, serving the corpora (and the baseline's
 * archives, for the "downloaded" comparison) with sendfile, so neither side
 * of the comparison is fed by the bench process. Runs in the foreground as
 * a child of the bench, with its own prefix and config under `.bench/nginx`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Subprocess } from "bun";
import { nginxBinary } from "../lib/nginx.ts";

export interface CorpusServer {
  origin: string;
  port: number;
  /** the host:port entry for ALLOW_PRIVATE_URLS */
  hostPort: string;
  stop(): Promise<void>;
}

function conf(dir: string, port: number, corporaRoot: string, outDir: string): string {
  const root = process.getuid?.() === 0;
  return `daemon off;
worker_processes auto;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
${root ? "user root;  # the repository may not be readable by nobody" : ""}
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path ${dir}/tmp/body;
    proxy_temp_path ${dir}/tmp/proxy;
    fastcgi_temp_path ${dir}/tmp/fastcgi;
    uwsgi_temp_path ${dir}/tmp/uwsgi;
    scgi_temp_path ${dir}/tmp/scgi;
    types { image/jpeg jpg; image/png png; text/csv csv; application/x-ndjson jsonl; text/plain log; application/zip zip; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:${port};
        root ${corporaRoot};
        location /out/ { alias ${outDir}/; }
    }
}
`;
}

/** Stops a corpus nginx that a bench killed hard left running (its master's pid file). */
export async function stopStaleCorpusServer(dir: string): Promise<void> {
  const pidFile = `${dir}/nginx.pid`;
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  const isNginx = () => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("nginx");
    } catch {
      return false;
    }
  };
  if (pid > 0 && isNginx()) {
    process.kill(pid, "SIGTERM");
    for (let i = 0; i < 100 && isNginx(); i++) await Bun.sleep(50);
  }
  rmSync(pidFile, { force: true });
}

/** Starts nginx on `port` and waits until it answers. */
export async function startCorpusServer(dir: string, port: number, corporaRoot: string, outDir: string): Promise<CorpusServer> {
  await stopStaleCorpusServer(dir);
  for (const sub of ["tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"]) mkdirSync(`${dir}/${sub}`, { recursive: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(`${dir}/nginx.conf`, conf(dir, port, corporaRoot, outDir));
  const proc: Subprocess = Bun.spawn([nginxBinary(), "-p", `${dir}/`, "-c", `${dir}/nginx.conf`], { stdout: "ignore", stderr: "inherit" });
  const origin = `http://127.0.0.1:${port}`;
  const stop = async () => {
    proc.kill("SIGTERM");
    await Promise.race([proc.exited, Bun.sleep(5000)]);
    if (proc.exitCode === null) proc.kill("SIGKILL");
  };
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) throw new Error(`corpus nginx exited with ${proc.exitCode} (see ${dir}/error.log)`);
    try {
      await (await fetch(`${origin}/`)).arrayBuffer();
      return { origin, port, hostPort: `127.0.0.1:${port}`, stop };
    } catch {
      await Bun.sleep(50);
    }
  }
  await stop();
  throw new Error("corpus nginx did not answer");
}
