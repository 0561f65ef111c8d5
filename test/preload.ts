/** Preloaded by `bun test` (bunfig.toml): closes a test's broker watchers after it, and stops the shared test stack after the run. */
import { afterAll, afterEach } from "bun:test";
import { stopTestStack } from "./stack.ts";
import { closeWatchers } from "./support/events.ts";

afterEach(async () => {
  await closeWatchers();
});

afterAll(async () => {
  await stopTestStack();
}, 60_000);

for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.on(sig, () => {
    void stopTestStack().finally(() => process.exit(130));
  });
