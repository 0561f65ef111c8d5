/** Prints the README's configuration table from servers/shared/config.ts (`bun scripts/config-table.ts`). */
import { CONFIG_DOCS } from "../servers/shared/config.ts";

console.log("| variable | default | meaning |\n|---|---|---|");
for (const d of [...CONFIG_DOCS.filter((d) => d.contract), ...CONFIG_DOCS.filter((d) => !d.contract)])
  console.log(`| \`${d.key}\` | ${d.def === "" ? "(unset)" : `\`${d.def}\``} | ${d.doc} |`);
