/** `--parts` parsing, and which machine declares the broker's topology. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { loadConfig } from "../../servers/shared/config.ts";
import { declaresTopology, partsArg, SelectionError } from "./selection.ts";

const dir = mkdtempSync(`${tmpdir()}/selection-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("--parts", () => {
  test("a list (either spelling) comes back in start order; none given: null", () => {
    expect(partsArg(["--parts", "web,downloader,rabbitmq"])).toEqual(["rabbitmq", "downloader", "web"]);
    expect(partsArg(["--parts=clock, nginx"])).toEqual(["nginx", "clock"]);
    expect(partsArg([])).toBeNull();
  });

  test("unknown parts, an empty list or another option: a SelectionError saying what the parts are", () => {
    for (const argv of [["--parts", "web,bridge"], ["--parts"], ["--parts="], ["--prats", "web"]]) {
      const err = (() => {
        try {
          partsArg(argv);
        } catch (e) {
          return e;
        }
      })();
      expect(err, argv.join(" ")).toBeInstanceOf(SelectionError);
      expect((err as Error).message).toContain("rabbitmq,nginx,linkguard,compressor,downloader,clock,web");
    }
  });

  test("the topology is declared by the broker's machine or one holding the admin's password, never by a role's user alone", () => {
    mkdirSync(`${dir}/broker`);
    const c = loadConfig({ RUN_DIR: dir, AMQP_URL: "amqp://mq.example", BROKER_CREDENTIALS_DIR: `${dir}/broker` });
    expect(declaresTopology(c, ["web"])).toBe(false);
    writeFileSync(`${dir}/broker/admin`, "admin-password-0123456789");
    expect(declaresTopology(c, ["web"])).toBe(true);
    const named = loadConfig({ RUN_DIR: dir, AMQP_URL: "amqps://web:pw@mq.example", BROKER_CREDENTIALS_DIR: `${dir}/broker` });
    expect(declaresTopology(named, ["web"])).toBe(false);
    expect(declaresTopology(loadConfig({ RUN_DIR: dir }), ["rabbitmq", "web"])).toBe(true);
  });
});
