/**
 * For in-process tests of the web server: the web app on a real job store in
 * a temporary folder, a publisher that only records, a stand-in for Bun's
 * server (`from(ip)`, so a request can come from any client address), and
 * temporary folders that clean up after the file's tests.
 */
import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { loadConfig } from "../shared/config.ts";
import { createApp, type WebDeps } from "./app.tsx";
import type { Conn } from "./conn.ts";
import { createJob } from "./jobs.ts";
import { openJobStore } from "./store.ts";

export async function testApp(env: Record<string, string> = {}, deps: Partial<WebDeps> = {}) {
  const dir = mkdtempSync(`${tmpdir()}/linkpack-web-`);
  const config = loadConfig(env);
  const store = await openJobStore(dir, { limits: { perMinute: config.MAX_JOBS_PER_MINUTE, active: config.MAX_ACTIVE_JOBS } });
  const published: string[] = [];
  const publisher = { publish: async (_x: string, key: string) => void published.push(key) };
  const app = createApp({ config, store, createJob: (urls, ttl, client) => createJob(store, publisher, urls, ttl, client), brokerUp: () => true, ...deps });
  return {
    app,
    config,
    store,
    /** routing keys of the download messages sent */
    published,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Bun's server as a request from `address` sees it. */
export const from = (address: string): Conn => ({ requestIP: () => ({ address }), timeout: () => {} });

/** Makes temporary folders, removed after the file's tests (call at a test file's top level). */
export function useTempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  return () => {
    const d = mkdtempSync(`${tmpdir()}/${prefix}`);
    dirs.push(d);
    return d;
  };
}
