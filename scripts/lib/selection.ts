/**
 * @module selection
 * `bun run start --parts LIST`: which parts this machine runs, and whether
 * it can run them against what the configuration names. A machine that
 * runs only some parts joins an installation made elsewhere, so it mints
 * nothing: the link secret, the internal token and the broker credentials
 * of its parts' roles must be there already (copied from the first
 * machine), and a part that needs the broker needs one to talk to (AMQP_URL,
 * or rabbitmq among its parts). Checked before anything is created.
 */
import { existsSync } from "node:fs";
import type { Config } from "../../servers/shared/config.ts";
import { credentialFile } from "../../servers/shared/brokerauth.ts";
import { ROLES, type Role } from "../../servers/shared/permissions.ts";

/** Every part, in start order: the broker, then nginx, then the servers. */
export const ALL_PARTS = ["rabbitmq", "nginx", "linkguard", "compressor", "downloader", "clock", "web"] as const;
export type Part = (typeof ALL_PARTS)[number];

/** The broker roles each part logs in as (rabbitmq: every user it defines). */
const ROLES_OF: Record<Part, readonly Role[]> = {
  rabbitmq: ROLES,
  nginx: [],
  linkguard: [],
  compressor: ["compressor"],
  downloader: ["downloader"],
  clock: ["clock"],
  web: ["web", "stomp"],
};

/** The broker roles whose password files a machine running `parts` needs (copied from the first machine). */
export const rolesOf = (parts: readonly Part[]): Role[] => [...new Set(parts.flatMap((p) => ROLES_OF[p]))];

/** A `--parts` request this machine cannot run; the message says what to change. */
export class SelectionError extends Error {
  override name = "SelectionError";
}

/** The parts named by `--parts a,b` (or `--parts=a,b`) in `argv`, in start order; null without `--parts`. */
export function partsArg(argv: string[]): Part[] | null {
  const i = argv.findIndex((a) => a === "--parts" || a.startsWith("--parts="));
  if (i < 0) {
    const other = argv.find((a) => a.startsWith("-"));
    if (other) throw new SelectionError(`unknown option ${other}; usage: bun run start [--parts ${ALL_PARTS.join(",")}]`);
    return null;
  }
  const list = argv[i]!.startsWith("--parts=") ? argv[i]!.slice("--parts=".length) : argv[i + 1];
  const names = (list ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new SelectionError(`--parts needs a comma-separated list of parts from ${ALL_PARTS.join(",")}`);
  const unknown = names.filter((n) => !(ALL_PARTS as readonly string[]).includes(n));
  if (unknown.length) throw new SelectionError(`unknown part${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} in --parts; the parts are ${ALL_PARTS.join(",")}`);
  return ALL_PARTS.filter((p) => names.includes(p));
}

/** Whether AMQP_URL carries a user (then every role logs in as it, and no credential files are read). */
const urlNamesUser = (c: Config) => c.AMQP_URL.split(",").some((u) => /^amqps?:\/\/[^/@]+@/.test(u.trim()));

/**
 * Throws a `SelectionError` naming every setting missing for `parts` on a
 * machine that joins an installation: nothing is minted for it.
 */
export function checkSelection(c: Config, parts: Part[]): void {
  const problems: string[] = [];
  const broker = parts.some((p) => p !== "nginx" && p !== "linkguard");
  if (parts.includes("rabbitmq") && c.AMQP_URL) problems.push("rabbitmq is in --parts but AMQP_URL names a broker to use instead: drop one of them");
  if (broker && !parts.includes("rabbitmq") && !c.AMQP_URL) problems.push("AMQP_URL is not set: a machine without rabbitmq in --parts needs the broker's address (amqp:// or amqps://)");
  for (const [file, setting] of [[c.LINK_SECRET_FILE, "LINK_SECRET_FILE"], [c.INTERNAL_TOKEN_FILE, "INTERNAL_TOKEN_FILE"]] as const)
    if (!existsSync(file)) problems.push(`${setting}: ${file} does not exist`);
  if (!urlNamesUser(c)) {
    const roles = rolesOf(parts);
    const missing = roles.filter((r) => !existsSync(credentialFile(c, r)));
    if (missing.length) problems.push(`BROKER_CREDENTIALS_DIR: no password file for ${missing.map((r) => `${r} (${credentialFile(c, r)})`).join(", ")}; or put user:password in AMQP_URL`);
  }
  if (problems.length === 0) return;
  throw new SelectionError(
    [
      `cannot start --parts ${parts.join(",")}:`,
      ...problems.map((p) => `  - ${p}`),
      "A machine started with --parts joins an installation and mints no secrets: copy these files from the first machine",
      "(made there by `bun run start` without --parts) and point the settings at them.",
    ].join("\n"),
  );
}

/** Whether this machine may declare the broker's topology: it runs the broker, or holds the admin's credentials. */
export function declaresTopology(c: Config, parts: Part[]): boolean {
  return parts.includes("rabbitmq") || (!urlNamesUser(c) && existsSync(credentialFile(c, "admin")));
}
