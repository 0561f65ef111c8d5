import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { ensureSecret, secretPath, signLink, signature } from "./securelink.ts";

test("signature is nginx's secure_link_md5: unpadded base64url MD5 of expires+uri+' '+secret", () => {
  const s = signature("/d/x.zip", 2147483647, "k");
  expect(s).toBe(createHash("md5").update("2147483647/d/x.zip k").digest("base64").replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"));
  expect(signLink("http://h:1", "/d/x.zip", 5, "k")).toBe(`http://h:1/d/x.zip?md5=${signature("/d/x.zip", 5, "k")}&expires=5`);
});

test("the secret is made once per installation, random, mode 0600", () => {
  const a = mkdtempSync(`${tmpdir()}/lp-secret-`);
  const b = mkdtempSync(`${tmpdir()}/lp-secret-`);
  try {
    const s1 = ensureSecret(a);
    expect(ensureSecret(a)).toBe(s1);
    expect(ensureSecret(b)).not.toBe(s1);
    expect(s1.length).toBeGreaterThanOrEqual(40);
    expect(statSync(secretPath(a)).mode & 0o777).toBe(0o600);
  } finally {
    rmSync(a, { recursive: true });
    rmSync(b, { recursive: true });
  }
});
