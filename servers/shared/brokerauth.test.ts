/** Encrypted connections between machines: an amqps:// AMQP_URL (and a PostgreSQL URL with sslmode) go through config and brokerauth unchanged. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { loadConfig } from "./config.ts";
import { brokerUrl, stompLogin } from "./brokerauth.ts";

const dir = mkdtempSync(`${tmpdir()}/brokerauth-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("encrypted broker and database URLs", () => {
  test("amqps:// nodes keep their scheme, hosts, ports and virtual host; each role's password is put in; Web-STOMP goes to wss://", () => {
    mkdirSync(`${dir}/broker`);
    writeFileSync(`${dir}/broker/web`, "web-password-0123456789");
    writeFileSync(`${dir}/broker/stomp`, "stomp-password-0123456789");
    const c = loadConfig({ RUN_DIR: dir, BROKER_CREDENTIALS_DIR: `${dir}/broker`, AMQP_URL: "amqps://mq1.example:5671/prod,amqps://mq2.example:5671/prod" });
    expect(c.AMQP_URL).toBe("amqps://mq1.example:5671/prod,amqps://mq2.example:5671/prod");
    expect(brokerUrl(c, "web")).toBe("amqps://linkpack-web:web-password-0123456789@mq1.example:5671/prod,amqps://linkpack-web:web-password-0123456789@mq2.example:5671/prod");
    expect(c.STOMP_URL).toEqual(["wss://mq1.example:15673/ws", "wss://mq2.example:15673/ws"]);
    expect(stompLogin(c)).toEqual({ login: "linkpack-stomp", passcode: "stomp-password-0123456789", vhost: "prod" });
  });

  test("an amqps:// URL naming its user is used as it is, for every role", () => {
    const c = loadConfig({ RUN_DIR: dir, AMQP_URL: "amqps://app:s%40cret@mq.example:5671", STOMP_URL: "wss://mq.example/ws" });
    expect(brokerUrl(c, "downloader")).toBe("amqps://app:s%40cret@mq.example:5671");
    expect(c.STOMP_URL).toEqual(["wss://mq.example/ws"]);
  });

  test("DATABASE_URL with sslmode passes unchanged", () => {
    const url = "postgres://linkpack:pw@db.example:5432/linkpack?sslmode=require";
    expect(loadConfig({ RUN_DIR: dir, DATABASE_URL: url }).DATABASE_URL).toBe(url);
  });
});
