/**
 * Prints the README's broker permission table from servers/shared/permissions.ts
 * (`bun scripts/broker-table.ts`); scripts/broker-table.test.ts checks the README has it.
 */
import { PERMISSIONS, ROLES, userName } from "../servers/shared/permissions.ts";

const code = (s: string) => `\`${s.replace(/\|/g, "\\|")}\``;

/** The table, one row per role. */
export function brokerTable(): string {
  const rows = ["| user | configure | write | read | topic permissions (exchange: write / read) | for |", "|---|---|---|---|---|---|"];
  for (const role of ROLES) {
    const p = PERMISSIONS[role];
    const topics = Object.entries(p.topics ?? {}).map(([x, [w, r]]) => `${code(x)}: ${code(w)} / ${code(r)}`).join("<br>") || "–";
    const tags = p.tags?.length ? ` (tag ${p.tags.join(", ")})` : "";
    rows.push(`| ${code(userName(role))}${tags} | ${code(p.configure)} | ${code(p.write)} | ${code(p.read)} | ${topics} | ${p.purpose} |`);
  }
  return rows.join("\n");
}

if (import.meta.main) console.log(brokerTable());
