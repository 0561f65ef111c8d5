import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { CONFIG_DOCS, ConfigError, loadConfig, ROOT } from "./config.ts";

describe("config", () => {
  test("defaults follow docs/API.md", () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.NGINX_PORT).toBe(8080);
    expect(c.PUBLIC_URL).toBe("http://127.0.0.1:8080");
    expect(c.RUN_DIR).toBe(`${ROOT}/.run`);
    expect(c.LINK_TTL_SECONDS).toBe(3600);
    expect(c.MAX_URLS).toBe(50);
    expect(c.MAX_FILE_BYTES).toBe(1073741824);
    expect(c.MAX_JOB_BYTES).toBe(2147483648);
    expect(c.ALLOW_PRIVATE_URLS).toEqual([]);
    expect(c.AMQP_URL).toBe("");
  });

  test("derived defaults follow the values they derive from", () => {
    const c = loadConfig({ NGINX_PORT: "9999", RUN_DIR: "/tmp/x", COMPRESSOR_PORT: "4001" });
    expect(c.PUBLIC_URL).toBe("http://127.0.0.1:9999");
    expect(c.DOWNLOADS_DIR).toBe("/tmp/x/downloads");
    expect(c.COMPRESSOR_URL).toEqual(["http://127.0.0.1:4001"]);
    expect(loadConfig({ AMQP_URL: "amqp://a:5672,amqp://b:5672" }).STOMP_URL).toEqual(["ws://a:15674/ws", "ws://b:15674/ws"]);
    expect(loadConfig({ ALLOW_PRIVATE_URLS: " Localhost:8000 , 127.0.0.1:9 " }).ALLOW_PRIVATE_URLS).toEqual(["localhost:8000", "127.0.0.1:9"]);
  });

  test("a cluster: the private broker's nodes count ports up, and queues default to quorum", () => {
    const c = loadConfig({ BROKER_NODES: "3", BROKER_STOMP_PORT: "15675" });
    expect(c.STOMP_URL).toEqual(["ws://127.0.0.1:15675/ws", "ws://127.0.0.1:15676/ws", "ws://127.0.0.1:15677/ws"]);
    expect(c.QUEUE_TYPE).toBe("quorum");
    expect(loadConfig({ AMQP_URL: "amqp://a:5672,amqp://b:5672" }).QUEUE_TYPE).toBe("quorum");
    expect(loadConfig({}).QUEUE_TYPE).toBe("classic");
    expect(loadConfig({ BROKER_NODES: "3", QUEUE_TYPE: "classic" }).QUEUE_TYPE).toBe("classic"); // said so: kept
  });

  test("a bad value fails fast naming the key", () => {
    expect(() => loadConfig({ PORT: "http" })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: "70000" })).toThrow(/PORT/);
    expect(() => loadConfig({ MAX_URLS: "0" })).toThrow(/MAX_URLS/);
    expect(() => loadConfig({ PUBLIC_URL: "ftp://x" })).toThrow(/PUBLIC_URL/);
    expect(() => loadConfig({ MAX_FILE_BYTES: String(5 * 1024 ** 3) })).toThrow(/4 GiB/);
    expect(() => loadConfig({ LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL/);
  });

  test("the README's configuration table lists every key with its default", () => {
    const readme = readFileSync(`${ROOT}/README.md`, "utf8");
    for (const d of CONFIG_DOCS) {
      const row = readme.split("\n").find((l) => l.startsWith(`| \`${d.key}\` `));
      expect(row, `README row for ${d.key}`).toBeDefined();
      expect(row!).toContain(d.def === "" ? "| (unset) |" : `\`${d.def}\``);
    }
  });
});
