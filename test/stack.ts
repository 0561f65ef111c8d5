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
import { startFixtures, type Fixtures } from "./fixtures.ts";

export interface TestStack {
  config: Config;
  /** the environment the stack was configured with (for extra processes) */
  env: Record<string, string>;
  fixtures: Fixtures;
  /** the web server's origin, e.g. http://127.0.0.1:41234 */
  web: string;
  /** an allowed (ALLOW_PRIVATE_URLS) port on 127.0.0.1 where nothing listens: connections are refused */
  closedPort: number;
}

/** A port nothing listens on right now. */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

let current: Promise<TestStack> | null = null;
let runDir: string | null = null;

/** Builds a config on free ports under a new temporary RUN_DIR. */
export function testConfig(extra: Record<string, string> = {}): { config: Config; env: Record<string, string>; runDir: string } {
  const dir = mkdtempSync(`${tmpdir()}/linkpack-test-`);
  const env: Record<string, string> = {
    RUN_DIR: dir,
    PORT: String(freePort()),
    NGINX_PORT: String(freePort()),
    COMPRESSOR_PORT: String(freePort()),
    GUARD_PORT: String(freePort()),
    GUARD_SYSLOG_PORT: String(freePort()),
    DOWNLOADER_PORT: String(freePort()),
    CLOCK_PORT: String(freePort()),
    BROKER_PORT: String(freePort()),
    BROKER_STOMP_PORT: String(freePort()),
    BROKER_DIST_PORT: String(freePort()),
    BROKER_EPMD_PORT: String(freePort()),
    LOG_LEVEL: "info",
    ...extra,
  };
  return { config: loadConfig(env), env, runDir: dir };
}

/** The shared stack for this test run (started on first call). */
export function useStack(): Promise<TestStack> {
  current ??= (async () => {
    const fixtures = startFixtures();
    const closedPort = freePort();
    const allow = `127.0.0.1:${fixtures.port},localhost:${fixtures.port},127.0.0.1:${closedPort}`;
    const { config, env, runDir: dir } = testConfig({ ALLOW_PRIVATE_URLS: allow });
    runDir = dir;
    // Like `bun run start`: a fresh machine gets RabbitMQ and nginx installed (as root) or is told how.
    await ensurePackages(missingPackages(config), (s) => console.log(s));
    await startStack(config);
    return { config, env, fixtures, closedPort, web: `http://${config.HOST}:${config.PORT}` };
  })();
  return current;
}

/** Stops the shared stack if it was started and removes its RUN_DIR. */
export async function stopTestStack(): Promise<void> {
  if (!current) return;
  const s = await current.catch(() => null);
  current = null;
  if (s) {
    await stopStack(s.config);
    s.fixtures.stop();
  }
  if (runDir) rmSync(runDir, { recursive: true, force: true });
}
