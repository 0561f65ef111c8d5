/**
 * @module ids
 * Unguessable identifiers: 128 random bits as 32 lowercase hex characters
 * (safe in routing keys, STOMP destinations, folder names and URLs).
 */
import { randomBytes } from "node:crypto";

const ID_PATTERN = /^[0-9a-f]{32}$/;

export function newId(): string {
  return randomBytes(16).toString("hex");
}

export function isId(s: unknown): s is string {
  return typeof s === "string" && ID_PATTERN.test(s);
}
