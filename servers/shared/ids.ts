/**
 * @module ids
 * Job identifiers: 32 lowercase hex characters (safe in routing keys, STOMP
 * destinations, folder names and URLs) — the creation time in seconds (8
 * hex) beside 96 random bits. Unguessable, and old enough to have expired
 * is told from the id alone, so a pruned job answers "expired" without a
 * tombstone being kept for it.
 */
import { randomBytes } from "node:crypto";

const ID_PATTERN = /^[0-9a-f]{32}$/;

/** A new id made at `now` (epoch ms). */
export function newId(now = Date.now()): string {
  return Math.floor(now / 1000).toString(16).padStart(8, "0").slice(-8) + randomBytes(12).toString("hex");
}

export function isId(s: unknown): s is string {
  return typeof s === "string" && ID_PATTERN.test(s);
}

/** When `id` says it was made (epoch ms). */
export function idTime(id: string): number {
  return parseInt(id.slice(0, 8), 16) * 1000;
}
