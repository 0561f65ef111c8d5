/**
 * The commands as a user runs them: `bun run start` / `bun run stop` as
 * subprocesses with a test's settings, and whether a port is listening.
 */
import { connect } from "node:net";
import { loadConfig, ROOT } from "../../servers/shared/config.ts";
import { configEnv } from "../../scripts/lib/stack.ts";

/** Runs `scripts/<script>.ts` with `env` and `args` (`--parts web`); its exit code and everything it printed. */
export async function runScript(script: "start" | "stop", env: Record<string, string>, args: string[] = []): Promise<{ out: string; code: number }> {
  const p = Bun.spawn([process.execPath, `${ROOT}/scripts/${script}.ts`, ...args], { env: configEnv(loadConfig(env)), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out: out + err, code };
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
export const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
