/**
 * The supervisor knows its own processes: each part's pid file names the
 * process that does the work (the broker's Erlang VM, not its wrapper), a
 * start after any mix of kills brings everything back (nginx workers left
 * by a killed master are stopped first), and stop leaves nothing behind.
 */
import { afterAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { PORT_KEYS } from "../servers/shared/config.ts";
import { groupMembers, isAlive, readPid, waitGone } from "./lib/procs.ts";
import { parts, stopStack } from "./lib/stack.ts";
import { testConfig } from "../test/stack.ts";
import { portOpen, runScript } from "../test/support/commands.ts";

const { config, env, runDir } = testConfig();
afterAll(async () => {
  await stopStack(config);
  rmSync(runDir, { recursive: true, force: true });
}, 60_000);

const run = (script: "start" | "stop") => runScript(script, env);
const comm = (pid: number) => readFileSync(`/proc/${pid}/comm`, "utf8").trim();
const pgidOf = (name: string) => Number(readFileSync(`${runDir}/pids/${name}.pgid`, "utf8"));
/** Every live process whose environment or command line names this RUN_DIR (the parts, their children, epmd). */
function leftovers(): string[] {
  const out: string[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const text = readFileSync(`/proc/${e}/environ`, "latin1") + readFileSync(`/proc/${e}/cmdline`, "latin1");
      if (text.includes(runDir) && isAlive(Number(e))) out.push(`${e} ${comm(Number(e))}`);
    } catch {
      /* gone, or not ours to read */
    }
  }
  return out;
}
async function kill9(pid: number) {
  process.kill(pid, "SIGKILL");
  await waitGone(pid, 10_000);
}

test("kill -9 each part's recorded process, or its group leader; start brings all back; stop leaves nothing", async () => {
  expect((await run("start")).code).toBe(0);
  // The broker's pid file names the Erlang VM, which holds its port; its group holds the wrapper too.
  const vm = readPid(runDir, "rabbitmq")!;
  expect(comm(vm)).toBe("beam.smp");
  expect(groupMembers(pgidOf("rabbitmq"))).toContain(vm);

  // Kill every part's recorded process: nginx's workers outlive their master and keep its port.
  const nginxWorkers = groupMembers(pgidOf("nginx")).filter((p) => p !== readPid(runDir, "nginx"));
  expect(nginxWorkers.length).toBeGreaterThan(0);
  for (const p of parts(config)) await kill9(readPid(runDir, p)!);
  expect(nginxWorkers.every(isAlive)).toBe(true);
  expect(await portOpen(config.NGINX_PORT)).toBe(true);

  const again = await run("start");
  expect(again.code, again.out).toBe(0);
  for (const p of parts(config)) expect(again.out).toContain(`${p} started`);
  expect(nginxWorkers.some(isAlive)).toBe(false);
  expect((await fetch(`http://127.0.0.1:${config.PORT}/healthz`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${config.NGINX_PORT}/`)).status).toBe(404);

  // Kill only the broker's wrapper: the VM still serves, so start finds it running.
  await kill9(pgidOf("rabbitmq"));
  expect(isAlive(readPid(runDir, "rabbitmq")!)).toBe(true);
  const third = await run("start");
  expect(third.code, third.out).toBe(0);
  expect(third.out).toContain("rabbitmq already running");

  // And kill nginx's master once more, then stop: nothing of the stack is left, no port held.
  await kill9(readPid(runDir, "nginx")!);
  const stop = await run("stop");
  expect(stop.code, stop.out).toBe(0);
  expect(leftovers()).toEqual([]);
  for (const port of PORT_KEYS.map((k) => config[k] as number)) expect(await portOpen(port), `port ${port}`).toBe(false);
}, 240_000);
