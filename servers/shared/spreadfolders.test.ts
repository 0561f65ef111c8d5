import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { spreadSubfolders } from "./spreadfolders.ts";

const root = mkdtempSync(`${tmpdir()}/spreadfolders-`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fsType = (dir: string) => Bun.spawnSync(["stat", "-f", "-c", "%T", dir]).stdout.toString().trim();
const attrs = (dir: string) => Bun.spawnSync(["lsattr", "-d", dir]).stdout.toString().split(" ")[0] ?? "";

describe("spreadSubfolders", () => {
  test("creates the folder and, on ext4, marks it as the top of a hierarchy (chattr +T)", () => {
    const said: string[] = [];
    const dir = `${root}/downloads/deeper`;
    spreadSubfolders(dir, { debug: (m) => said.push(m) });
    expect(existsSync(dir)).toBe(true);
    if (fsType(root) === "ext2/ext3") {
      expect(attrs(dir)).toContain("T");
      expect(said).toEqual([]);
    }
  });

  test("a folder it cannot make or mark is said at debug level, never thrown", () => {
    const said: string[] = [];
    writeFileSync(`${root}/a-file`, "");
    expect(() => spreadSubfolders(`${root}/a-file/sub`, { debug: (m) => said.push(m) })).not.toThrow();
    expect(said).toHaveLength(1);
  });
});
