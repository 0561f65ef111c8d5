/**
 * @module exec
 * Runs an external command (curl, zip, gzip) to completion and reports its
 * wall time and CPU time; a non-zero exit is an error carrying its stderr.
 */

export interface Ran {
  ms: number;
  cpuMs: number;
  stdout: string;
}

export class CommandFailed extends Error {
  override name = "CommandFailed";
}

/** Runs `cmd` (stdout captured unless `discard`), timing it from spawn to exit. */
export async function run(cmd: string[], opts: { cwd?: string; discard?: boolean } = {}): Promise<Ran> {
  const t0 = performance.now();
  const p = Bun.spawn(cmd, { cwd: opts.cwd, stdout: opts.discard ? "ignore" : "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    opts.discard ? Promise.resolve("") : new Response(p.stdout as ReadableStream).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  const ms = performance.now() - t0;
  if (code !== 0) throw new CommandFailed(`${cmd.slice(0, 3).join(" ")} ... exited ${code}: ${stderr.trim().slice(0, 500)}`);
  const cpu = p.resourceUsage()?.cpuTime;
  return { ms, cpuMs: cpu ? Number(cpu.total) / 1000 : NaN, stdout };
}

/** Fetches `url` with curl into /dev/null; returns the time, HTTP status and bytes received. */
export async function curlDiscard(url: string): Promise<{ ms: number; status: number; bytes: number }> {
  const r = await run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", url]);
  const [status, bytes] = r.stdout.trim().split(" ").map(Number);
  return { ms: r.ms, status: status!, bytes: bytes! };
}

/** The part of `cmd`'s version output matching `pattern`, for the report. */
export function versionOf(cmd: string[], pattern: RegExp): string {
  try {
    const p = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
    return pattern.exec(p.stdout.toString() + p.stderr.toString())?.[0] ?? `${cmd[0]} ?`;
  } catch {
    return `${cmd[0]} ?`;
  }
}
