import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { newId } from "./ids.ts";
import { archiveFile, archiveFolder, archiveUri, jobLink, linkKey, signature, signLink, verifyLink } from "./link.ts";

const secret = "a-test-secret-of-some-length";
const publicUrl = "http://127.0.0.1:8080";

describe("the link", () => {
  test("signature is nginx's secure_link_md5: unpadded base64url MD5 of expires+uri+' '+secret", () => {
    const s = signature("/d/x.zip", 2147483647, "k");
    expect(s).toBe(createHash("md5").update("2147483647/d/x.zip k").digest("base64").replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"));
    expect(signLink("http://h:1", "/d/x.zip", 5, "k")).toBe(`http://h:1/d/x.zip?md5=${signature("/d/x.zip", 5, "k")}&expires=5`);
  });

  test("a job's link: HMAC folder, job id, signed; its key and file", () => {
    const id = newId();
    const folder = archiveFolder(secret, id);
    expect(folder).toMatch(/^[0-9a-f]{32}$/);
    expect(archiveFolder(secret, id)).toBe(folder);
    expect(archiveFolder(secret + "x", id)).not.toBe(folder);
    const link = jobLink({ publicUrl, secret, jobId: id, expires: 2_000_000_000 });
    expect(link).toBe(signLink(publicUrl, `/d/${folder}/${id}.zip`, 2_000_000_000, secret));
    expect(linkKey(new URL(link).pathname + new URL(link).search)).toBe(archiveUri(folder, id));
    expect(archiveFile("/srv/a", archiveUri(folder, id))).toBe(`/srv/a/${folder}/${id}.zip`);
  });

  test("only archive paths are link keys", () => {
    const key = `/d/${"a".repeat(32)}/${"b".repeat(32)}.zip`;
    expect(linkKey(`${key}?md5=x&expires=1`)).toBe(key);
    for (const bad of [null, "", "/d/", `/d/${"a".repeat(32)}/../x.zip`, `/d/${"A".repeat(32)}/${"b".repeat(32)}.zip`, `${key}x`, `/x${key}`, "/etc/passwd"]) expect(linkKey(bad)).toBeNull();
  });

  test("verifyLink accepts exactly the job's own signed link", () => {
    const id = newId();
    const expires = 2_000_000_000;
    const expiresAt = new Date(expires * 1000).toISOString();
    const link = jobLink({ publicUrl, secret, jobId: id, expires });
    expect(verifyLink(link, { publicUrl, secret, jobId: id, expiresAt })).toBe(true);
    expect(verifyLink(link, { publicUrl, secret, jobId: id })).toBe(true);
    const other = newId();
    const forged = [
      "https://evil.example/x.zip",
      link.replace(publicUrl, "http://evil.example"),
      jobLink({ publicUrl, secret, jobId: other, expires }),
      jobLink({ publicUrl, secret: secret + "x", jobId: id, expires }),
      link.replace(`expires=${expires}`, `expires=${expires + 1}`),
      `${link}&x=1`,
      link.replace("md5=", "md5=A"),
      "not a url",
    ];
    for (const f of forged) expect(verifyLink(f, { publicUrl, secret, jobId: id })).toBe(false);
    expect(verifyLink(link, { publicUrl, secret, jobId: id, expiresAt: new Date((expires + 60) * 1000).toISOString() })).toBe(false);
    expect(verifyLink(link, { publicUrl, secret, jobId: "x" })).toBe(false);
  });
});
