/**
 * `bun run start [--parts LIST]`: installs what is missing (as root on
 * Debian/Ubuntu), then starts the broker, nginx and every server — or only
 * the parts named (lib/selection.ts) — in the background, waits until each
 * is healthy, prints where the page is and exits 0. Idempotent.
 */
import { loadConfig } from "../servers/shared/config.ts";
import { ensurePackages, missingPackages, MissingPackages } from "./lib/install.ts";
import { checkSelection, partsArg, SelectionError } from "./lib/selection.ts";
import { PartFailed, startStack } from "./lib/stack.ts";

const config = loadConfig();
const say = (s: string) => console.log(s);
try {
  const only = partsArg(process.argv.slice(2));
  if (only) checkSelection(config, only); // before installing anything
  await ensurePackages(missingPackages(config, only), say);
  say(`Starting linkpack (RUN_DIR ${config.RUN_DIR}${only ? `, parts ${only.join(",")}` : ""})`);
  const res = await startStack(config, say, only);
  if (res.started.length === 0) say("linkpack is already running.");
  if (!only || only.includes("web")) say(`\nlinkpack is up: http://${config.HOST}:${config.PORT}/`);
  else say(`\nlinkpack's parts ${only.join(",")} are up.`);
  say(`  logs: ${config.RUN_DIR}/logs/   stop: bun run stop`);
} catch (err) {
  if (err instanceof SelectionError) {
    console.error(`linkpack did not start: ${err.message}`);
  } else if (err instanceof PartFailed) {
    console.error(`\nlinkpack failed to start: ${err.message}\n--- last lines of ${config.RUN_DIR}/logs/${err.part}.log ---\n${err.log}`);
    console.error("Stopped the parts this run had started.");
  } else if (err instanceof MissingPackages) {
    console.error(err.message);
  } else {
    console.error(`linkpack failed to start: ${(err as Error).stack ?? err}`);
  }
  process.exit(1);
}
