/**
 * The test photos moved to scripts/lib/textgen.ts (the benchmark uses them
 * too). Left only because scripts/screenshots.ts still imports them here.
 */
export { photoSet } from "../scripts/lib/textgen.ts";
