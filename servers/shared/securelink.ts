/**
 * @module securelink
 * Signing for nginx's `secure_link_md5 "$secure_link_expires$uri <secret>"`:
 * the binary MD5 as unpadded base64url, with the expiry in epoch seconds.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** The signature nginx recomputes for `uri` valid until `expires` (epoch seconds). */
export function signature(uri: string, expires: number, secret: string): string {
  return createHash("md5").update(`${expires}${uri} ${secret}`).digest("base64url");
}

/** A full signed link: `origin + uri?md5=...&expires=...`. */
export function signLink(origin: string, uri: string, expires: number, secret: string): string {
  return `${origin}${uri}?md5=${signature(uri, expires, secret)}&expires=${expires}`;
}

/** Path of the installation's signing secret under RUN_DIR. */
export function secretPath(runDir: string): string {
  return `${runDir}/secret/link-secret`;
}

/** Reads the secret, creating it (random, mode 0600) on first use. */
export function ensureSecret(runDir: string): string {
  const p = secretPath(runDir);
  if (!existsSync(p)) {
    mkdirSync(dirname(p), { recursive: true, mode: 0o700 });
    writeFileSync(p, randomBytes(32).toString("base64url"), { mode: 0o600, flag: "wx" });
  }
  chmodSync(p, 0o600);
  return readSecret(runDir);
}

/** Reads the existing secret; throws if `start` has not created it. */
export function readSecret(runDir: string): string {
  return readFileSync(secretPath(runDir), "utf8").trim();
}
