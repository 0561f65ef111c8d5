/** Helpers for fault tests: slow fixture files, killing and restarting parts of the shared stack. */
import { isAlive, readPid, stopProcess, waitGone } from "../../scripts/lib/procs.ts";
import { startPart, type Part } from "../../scripts/lib/stack.ts";
import type { Config } from "../../servers/shared/config.ts";
import type { Fixtures } from "../fixtures.ts";

/** Serves `bytes` at `path` in `chunks` pieces spread over `totalMs` (so a job is "mid-way" for a while). */
export function slowRoute(fixtures: Fixtures, path: string, bytes: Uint8Array, totalMs: number, chunks = 10): string {
  return fixtures.route(path, () => {
    const size = Math.ceil(bytes.length / chunks);
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        if (i * size >= bytes.length) return ctrl.close();
        if (i > 0) await Bun.sleep(totalMs / chunks);
        ctrl.enqueue(bytes.subarray(i * size, (i + 1) * size));
        i++;
      },
    });
    return new Response(stream, { headers: { "content-length": String(bytes.length), "content-type": "application/octet-stream" } });
  });
}

/** SIGKILLs a part of the stack and waits until it is gone. */
export async function kill9(config: Config, name: string): Promise<void> {
  const pid = readPid(config.RUN_DIR, name);
  if (pid === null || !isAlive(pid)) throw new Error(`${name} is not running`);
  process.kill(pid, "SIGKILL");
  await waitGone(pid, 5000);
}

/** Starts a part again the way `bun run start` does (only if it is not running). */
export const restart = (config: Config, part: Part) => startPart(config, part, 90_000);

/** Stops a part gracefully (SIGTERM) and starts it again. */
export async function gracefulRestart(config: Config, part: Part): Promise<void> {
  await stopProcess(config.RUN_DIR, part);
  await startPart(config, part, 90_000);
}

/** Waits until `cond()` holds (or throws after `ms`). */
export async function until(cond: () => boolean | Promise<boolean>, ms = 30_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}
