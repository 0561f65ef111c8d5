/**
 * @module secrets
 * Per-installation secrets kept in files whose paths are settings (so several
 * machines can share them): the link-signing secret (LINK_SECRET_FILE) and the
 * internal token that callers of the compressor and the link guard must hold
 * (INTERNAL_TOKEN_FILE). `bun run start` mints them on first start (random,
 * mode 0600); servers only read them and stop with a clear message if one is
 * missing. They are never committed.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ConfigError, type Config } from "./config.ts";

/** Creates `path` with `bytes` random bytes (base64url, mode 0600) unless it exists; returns its value. */
export function ensureSecretFile(path: string, bytes = 32): string {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, randomBytes(bytes).toString("base64url"), { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw err; // another starter won the race
    }
  }
  chmodSync(path, 0o600);
  return readSecretFile(path, path);
}

/** Reads a secret file; `setting` names where its path comes from, for the error message. */
export function readSecretFile(path: string, setting: string): string {
  let value: string;
  try {
    value = readFileSync(path, "utf8").trim();
  } catch {
    throw new ConfigError(`cannot read the secret file ${path} (${setting}); run \`bun run start\` once to create it, or copy it from the machine that did`);
  }
  if (value.length < 16) throw new ConfigError(`the secret file ${path} (${setting}) is too short`);
  return value;
}

/** The link-signing secret (shared by the compressor, the web server and nginx). */
export const linkSecret = (c: Pick<Config, "LINK_SECRET_FILE">) => readSecretFile(c.LINK_SECRET_FILE, "LINK_SECRET_FILE");

/** The token internal callers present (downloader → compressor, nginx → link guard). */
export const internalToken = (c: Pick<Config, "INTERNAL_TOKEN_FILE">) => readSecretFile(c.INTERNAL_TOKEN_FILE, "INTERNAL_TOKEN_FILE");

/** The header internal callers send the token in. */
export const TOKEN_HEADER = "x-linkpack-token";

/** Whether `given` is the token (constant time). */
export function tokenMatches(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
