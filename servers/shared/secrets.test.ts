import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { ConfigError } from "./config.ts";
import { ensureSecretFile, readSecretFile, tokenMatches } from "./secrets.ts";

const dir = mkdtempSync(`${tmpdir()}/lp-secret-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a secret is made once per installation, random, mode 0600", () => {
  const a = ensureSecretFile(`${dir}/a/link-secret`);
  expect(ensureSecretFile(`${dir}/a/link-secret`)).toBe(a);
  expect(ensureSecretFile(`${dir}/b/link-secret`)).not.toBe(a);
  expect(a.length).toBeGreaterThanOrEqual(40);
  expect(statSync(`${dir}/a/link-secret`).mode & 0o777).toBe(0o600);
  expect(statSync(`${dir}/a`).mode & 0o777).toBe(0o700);
});

test("a missing secret stops with a message naming its setting, not a new secret", () => {
  expect(() => readSecretFile(`${dir}/none`, "LINK_SECRET_FILE")).toThrow(ConfigError);
  expect(() => readSecretFile(`${dir}/none`, "LINK_SECRET_FILE")).toThrow(/LINK_SECRET_FILE/);
});

test("tokens compare in full", () => {
  expect(tokenMatches("abc", "abc")).toBe(true);
  for (const bad of [null, undefined, "", "ab", "abcd", "abd"]) expect(tokenMatches(bad, "abc")).toBe(false);
});
