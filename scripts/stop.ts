/** `bun run stop`: stops everything `start` started (broker and epmd included). Exit 0 also when nothing runs. */
import { loadConfig } from "../servers/shared/config.ts";
import { stopStack } from "./lib/stack.ts";

const config = loadConfig();
const stopped = await stopStack(config, (s) => console.log(s));
console.log(stopped.length ? "linkpack stopped." : "linkpack was not running.");
