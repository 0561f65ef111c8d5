/** Preloaded by `bun test` (bunfig.toml): closes a test's broker watchers after it, and stops the shared test stack and PostgreSQL cluster after the run. */
import { afterAll, afterEach } from "bun:test";
import { stopTestStack } from "./stack.ts";
import { closeWatchers } from "./support/events.ts";
import { stopTestPostgres } from "./support/postgres.ts";

afterEach(async () => {
  await closeWatchers();
});

afterAll(async () => {
  await Promise.all([stopTestStack(), stopTestPostgres()]);
}, 60_000);

for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.on(sig, () => {
    void Promise.all([stopTestStack(), stopTestPostgres()]).finally(() => process.exit(130));
  });
