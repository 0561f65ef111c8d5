/** Preloaded by `bun test` (bunfig.toml): stops the shared test stack after the run. */
import { afterAll } from "bun:test";
import { stopTestStack } from "./stack.ts";

afterAll(async () => {
  await stopTestStack();
}, 60_000);

for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.on(sig, () => {
    void stopTestStack().finally(() => process.exit(130));
  });
