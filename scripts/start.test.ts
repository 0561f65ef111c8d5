/**
 * `bun run start` / `bun run stop` as a user runs them (subprocesses), on a
 * temporary RUN_DIR: start, start again (which also deletes a `guest` an
 * older broker had), SIGKILL one server and start again, stop, stop again;
 * with another RabbitMQ node already on the system ports; and a part that
 * cannot start.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { PORT_KEYS } from "../servers/shared/config.ts";
import { isAlive, readPid } from "./lib/procs.ts";
import { parts, startPart, stopStack } from "./lib/stack.ts";
import amqp from "amqplib";
import { prepareRabbit, rabbitmqctl, stopEpmd } from "./lib/rabbitmq.ts";
import { testConfig } from "../test/stack.ts";
import { portOpen, runScript } from "../test/support/commands.ts";
import { freePort } from "./lib/ports.ts";


const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
}, 60_000);

describe("bun run start / stop", () => {
  test("start, start again, restart a killed server, stop — beside a system-like broker on 5672", async () => {
    // A "system" RabbitMQ on the system defaults (5672, epmd 4369, dist 25672), unless one is already there.
    if (!(await portOpen(5672))) {
      const sys = testConfig({ BROKER_PORT: "5672", BROKER_EPMD_PORT: "4369", BROKER_DIST_PORT: "25672" });
      cleanups.push(async () => {
        await stopStack(sys.config);
        rmSync(sys.runDir, { recursive: true, force: true });
      });
      prepareRabbit(sys.config);
      await startPart(sys.config, "rabbitmq", 90_000);
    }
    expect(await portOpen(5672)).toBe(true);

    const { config, env, runDir } = testConfig();
    cleanups.push(async () => {
      await stopStack(config);
      rmSync(runDir, { recursive: true, force: true });
    });

    const first = await runScript("start", env);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain(`http://127.0.0.1:${config.PORT}/`);
    expect((await fetch(`http://127.0.0.1:${config.PORT}/healthz`)).status).toBe(200);
    for (const p of parts(config)) expect(readPid(runDir, p), p).not.toBeNull();

    const again = await runScript("start", env);
    expect(again.code).toBe(0);
    expect(again.out).toContain("already running");

    // A broker made before linkpack had its own users still has guest: the next start deletes it.
    await rabbitmqctl(config, ["add_user", "guest", "guest"]);
    await rabbitmqctl(config, ["set_permissions", "guest", ".*", ".*", ".*"]);
    const guest = () => amqp.connect(`amqp://guest:guest@127.0.0.1:${config.BROKER_PORT}`).then(async (c) => (await c.close(), "in"), () => "refused");
    expect(await guest()).toBe("in");
    const upgraded = await runScript("start", env);
    expect(upgraded.code, upgraded.out).toBe(0);
    expect(await guest()).toBe("refused");

    const webPid = readPid(runDir, "web");
    const dl = readPid(runDir, "downloader")!;
    process.kill(dl, "SIGKILL");
    const third = await runScript("start", env);
    expect(third.code, third.out).toBe(0);
    expect(third.out).toContain("downloader started");
    expect(third.out).not.toContain("web started");
    expect(readPid(runDir, "web")).toBe(webPid);
    expect(readPid(runDir, "downloader")).not.toBe(dl);

    const pids = parts(config).map((p) => readPid(runDir, p)!);
    const stop = await runScript("stop", env);
    expect(stop.code, stop.out).toBe(0);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    for (const port of PORT_KEYS.map((k) => config[k] as number))
      expect(await portOpen(port), `port ${port}`).toBe(false);
    expect(await portOpen(5672)).toBe(true); // the other broker is untouched

    const stopAgain = await runScript("stop", env);
    expect(stopAgain.code).toBe(0);
    expect(stopAgain.out).toContain("not running");
  }, 180_000);

  test("a part that cannot start: non-zero, names it, shows its log, stops what it started", async () => {
    const blocker = Bun.listen({ hostname: "127.0.0.1", port: freePort(), socket: { data() {} } });
    cleanups.push(() => blocker.stop(true));
    const { config, env, runDir } = testConfig({ CLOCK_PORT: String(blocker.port) });
    cleanups.push(async () => {
      await stopStack(config);
      await stopEpmd(config);
      rmSync(runDir, { recursive: true, force: true });
    });
    const r = await runScript("start", env);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("clock");
    expect(r.out).toContain("last lines of");
    for (const p of parts(config)) {
      const pid = readPid(runDir, p);
      if (pid !== null) expect(isAlive(pid), p).toBe(false);
    }
    expect(await portOpen(config.PORT)).toBe(false);
    expect(await portOpen(config.BROKER_PORT)).toBe(false);
  }, 180_000);
});
