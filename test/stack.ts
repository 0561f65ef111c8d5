/**
 * The real stack for tests: a private RabbitMQ, nginx and every server, on
 * free ports with a temporary RUN_DIR, started once per `bun test` run the
 * first time a test asks (`useStack()`), stopped by the preload's afterAll
 * even when tests fail. Started through the same code as `bun run start`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { loadConfig, type Config } from "../servers/shared/config.ts";
import { startStack, stopStack } from "../scripts/lib/stack.ts";
import { ensurePackages, missingPackages } from "../scripts/lib/install.ts";
import { freePort, freePortsEnv, RAISED_LIMITS } from "../scripts/lib/ports.ts";
import { startFixtures, type Fixtures } from "./support/fixtures.ts";

export interface TestStack {
  config: Config;
  /** the environment the stack was configured with (for extra processes) */
  env: Record<string, string>;
  fixtures: Fixtures;
  /** the web server's origin, e.g. http://127.0.0.1:41234 */
  web: string;
  /** an allowed (ALLOW_PRIVATE_URLS) port on 127.0.0.1 where nothing listens: connections are refused */
  closedPort: number;
  /** another allowed port on 127.0.0.1, free for a test's own raw server */
  sparePort: number;
}

let current: Promise<TestStack> | null = null;

/** Builds a config on free ports under a new temporary RUN_DIR. */
export function testConfig(extra: Record<string, string> = {}): { config: Config; env: Record<string, string>; runDir: string } {
  const dir = mkdtempSync(`${tmpdir()}/linkpack-test-`);
  const env: Record<string, string> = {
    RUN_DIR: dir,
    ...freePortsEnv(),
    LOG_LEVEL: "info",
    ...extra,
  };
  return { config: loadConfig(env), env, runDir: dir };
}

/**
 * Starts a stack of its own (for tests that need other limits), with a
 * fixture server allowed through ALLOW_PRIVATE_URLS. Call `stop()` after.
 */
export async function createStack(extra: Record<string, string> = {}): Promise<TestStack & { runDir: string; stop(): Promise<void> }> {
  const fixtures = startFixtures();
  const closedPort = freePort();
  const sparePort = freePort();
  const allow = `127.0.0.1:${fixtures.port},localhost:${fixtures.port},127.0.0.1:${closedPort},127.0.0.1:${sparePort}`;
  const { config, env, runDir: dir } = testConfig({ ...RAISED_LIMITS, ALLOW_PRIVATE_URLS: allow, ...extra });
  // Like `bun run start`: a fresh machine gets RabbitMQ and nginx installed (as root) or is told how.
  await ensurePackages(missingPackages(config), (s) => console.log(s));
  const stop = async () => {
    await stopStack(config);
    fixtures.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await startStack(config);
  } catch (err) {
    await stop();
    throw err;
  }
  return { config, env, fixtures, closedPort, sparePort, web: `http://${config.HOST}:${config.PORT}`, runDir: dir, stop };
}

let shared: Awaited<ReturnType<typeof createStack>> | null = null;

/** The shared stack for this test run (started on first call). */
export function useStack(): Promise<TestStack> {
  current ??= createStack().then((s) => (shared = s));
  return current;
}

/** Stops the shared stack if it was started and removes its RUN_DIR. */
export async function stopTestStack(): Promise<void> {
  if (!current) return;
  await current.catch(() => null);
  current = null;
  await shared?.stop();
  shared = null;
}
