/**
 * `bun run start --parts LIST` as a user runs it (subprocesses): a request
 * the machine cannot run fails clearly and creates nothing; and a second
 * machine (its own RUN_DIR and ports) started with `--parts web` against the
 * first one's broker and secrets serves a job the first one's parts do.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, rmSync } from "node:fs";
import { ROLES } from "../servers/shared/permissions.ts";
import { credentialFile } from "../servers/shared/brokerauth.ts";
import { ensureSecretFile } from "../servers/shared/secrets.ts";
import { isAlive, readPid } from "./lib/procs.ts";
import { RAISED_LIMITS } from "./lib/ports.ts";
import { stopEpmd } from "./lib/rabbitmq.ts";
import { stopStack } from "./lib/stack.ts";
import { testConfig } from "../test/stack.ts";
import { portOpen, runScript } from "../test/support/commands.ts";
import { startFixtures } from "../test/support/fixtures.ts";
import { fetchLink, entries, submit, waitFinal } from "../test/support/jobs.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
}, 60_000);

/** A machine's settings on a RUN_DIR of its own, removed afterwards. */
function machine(extra: Record<string, string> = {}) {
  const m = testConfig({ ...RAISED_LIMITS, ...extra });
  cleanups.push(async () => {
    await stopStack(m.config);
    await stopEpmd(m.config);
    rmSync(m.runDir, { recursive: true, force: true });
  });
  return m;
}

describe("bun run start --parts", () => {
  test("an unknown part, or parts this machine cannot run: non-zero, a message naming what is missing, nothing created", async () => {
    const m = machine({ AMQP_URL: "amqp://127.0.0.1:1" });
    const unknown = await runScript("start", m.env, ["--parts", "web,brokerr"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.out).toContain("unknown part brokerr");
    expect(unknown.out).toContain("rabbitmq,nginx,linkguard,compressor,downloader,clock,web");

    // Joining without the first machine's secrets: every missing setting named, none minted.
    const bare = await runScript("start", m.env, ["--parts", "web,downloader"]);
    expect(bare.code).not.toBe(0);
    for (const s of ["LINK_SECRET_FILE", "INTERNAL_TOKEN_FILE", "BROKER_CREDENTIALS_DIR", "web", "stomp", "downloader"]) expect(bare.out).toContain(s);
    expect(bare.out).not.toContain("compressor (");

    // No broker to talk to: neither AMQP_URL nor rabbitmq in the list.
    const noBroker = machine();
    const lost = await runScript("start", noBroker.env, ["--parts=web"]);
    expect(lost.code).not.toBe(0);
    expect(lost.out).toContain("AMQP_URL is not set");

    for (const dir of [m.runDir, noBroker.runDir]) expect(readdirSync(dir)).toEqual([]);
  }, 60_000);

  test("a second machine with --parts web, against the first one's broker, secrets and parts, serves a job; each stop stops its own", async () => {
    const fixtures = startFixtures();
    cleanups.push(() => fixtures.stop());
    const first = machine({ ALLOW_PRIVATE_URLS: `127.0.0.1:${fixtures.port}` });
    // The installation's secrets, as the first machine's first start made them (copied to the others).
    for (const f of [first.config.LINK_SECRET_FILE, first.config.INTERNAL_TOKEN_FILE, ...ROLES.map((r) => credentialFile(first.config, r))]) ensureSecretFile(f);
    const up = await runScript("start", first.env, ["--parts", "rabbitmq,nginx,linkguard,compressor,downloader,clock"]);
    expect(up.code, up.out).toBe(0);
    expect(readPid(first.runDir, "web")).toBeNull();

    const c1 = first.config;
    const second = machine({
      AMQP_URL: `amqp://127.0.0.1:${c1.BROKER_PORT}`,
      STOMP_URL: `ws://127.0.0.1:${c1.BROKER_STOMP_PORT}/ws`,
      PUBLIC_URL: c1.PUBLIC_URL,
      COMPRESSOR_URL: c1.COMPRESSOR_URL.join(","),
      LINK_SECRET_FILE: c1.LINK_SECRET_FILE,
      INTERNAL_TOKEN_FILE: c1.INTERNAL_TOKEN_FILE,
      BROKER_CREDENTIALS_DIR: c1.BROKER_CREDENTIALS_DIR,
    });
    const web = await runScript("start", second.env, ["--parts", "web"]);
    expect(web.code, web.out).toBe(0);
    expect(web.out).toContain(`http://127.0.0.1:${second.config.PORT}/`);
    expect(readdirSync(`${second.runDir}/pids`).filter((n) => n.endsWith(".pid"))).toEqual(["web.pid"]);
    const again = await runScript("start", second.env, ["--parts", "web"]);
    expect(again.code).toBe(0);
    expect(again.out).toContain("already running");

    const body = new TextEncoder().encode("a file fetched on the first machine ".repeat(100));
    const url = fixtures.route("/parts/a.txt", body, "text/plain");
    const id = await submit(`http://127.0.0.1:${second.config.PORT}`, [url]);
    const job = await waitFinal(`http://127.0.0.1:${second.config.PORT}`, id);
    expect(job.state).toBe("ready");
    const got = await fetchLink(job.link!);
    expect(got.status).toBe(200);
    expect(entries(got.body)["a.txt"]).toEqual(body);

    const webPid = readPid(second.runDir, "web")!;
    const stop2 = await runScript("stop", second.env);
    expect(stop2.code, stop2.out).toBe(0);
    expect(isAlive(webPid)).toBe(false);
    expect(await portOpen(c1.BROKER_PORT)).toBe(true); // the first machine's broker is not the second's to stop
    const stop1 = await runScript("stop", first.env);
    expect(stop1.code, stop1.out).toBe(0);
    expect(await portOpen(c1.BROKER_PORT)).toBe(false);
  }, 240_000);
});
