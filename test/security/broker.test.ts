/**
 * The broker lets nobody in without a key, and each role only does its job
 * (servers/shared/permissions.ts), through the stack's real broker: guest is
 * refused on AMQP and on Web-STOMP (also from a web page of another origin),
 * every role's forbidden operations are refused, the web server's STOMP user
 * can read one job's events but publish nothing, and a forged link event is
 * never shown as a job's link.
 */
import { describe, expect, test } from "bun:test";
import amqp, { type ConfirmChannel } from "amqplib";
import { brokerUrl, stompLogin } from "../../servers/shared/brokerauth.ts";
import type { Config } from "../../servers/shared/config.ts";
import { newId } from "../../servers/shared/ids.ts";
import { ROLES, type Role } from "../../servers/shared/permissions.ts";
import { DEAD_EXCHANGE, PROGRESS_EXCHANGE, RETRY_EXCHANGE, WEB_PROGRESS_QUEUE, WORK_EXCHANGE, keys, queues, stompDestination } from "../../servers/shared/topology.ts";
import { useStack } from "../stack.ts";
import { sseClient, waitForLog } from "../support/events.ts";
import { photos, trickle } from "../support/fixtures.ts";
import { getJob, submit, waitFinal } from "../support/jobs.ts";

/** Runs `op` on a fresh confirm channel of `role`: "ok", or "refused" if the broker closed the channel with 403. */
async function attempt(config: Config, role: Role, op: (ch: ConfirmChannel) => Promise<unknown>): Promise<"ok" | "refused"> {
  const conn = await amqp.connect(brokerUrl(config, role));
  conn.on("error", () => {});
  try {
    const ch = await conn.createConfirmChannel();
    const closed = new Promise<"refused">((resolve, reject) =>
      ch.on("error", (err: { code?: number }) => (err.code === 403 ? resolve("refused") : reject(err))),
    );
    return await Promise.race([op(ch).then(() => "ok" as const), closed]);
  } finally {
    await conn.close().catch(() => {});
  }
}

const publish = (exchange: string, key: string) => (ch: ConfirmChannel) =>
  new Promise<void>((resolve, reject) => ch.publish(exchange, key, Buffer.from("{}"), {}, (err) => (err ? reject(err) : resolve())));

/** One raw STOMP CONNECT over Web-STOMP (as a browser page would send it): the broker's first frame command, or "closed". */
async function stompConnect(config: Config, headers: Record<string, string>, origin = "https://evil.example"): Promise<string> {
  const ws = new WebSocket(config.STOMP_URL[0]!, { headers: { Origin: origin }, protocols: ["v12.stomp"] } as never);
  return new Promise((resolve) => {
    ws.onopen = () => ws.send(`CONNECT\naccept-version:1.2\nhost:/\n${Object.entries(headers).map(([k, v]) => `${k}:${v}\n`).join("")}\n\0`);
    ws.onmessage = (e) => {
      resolve(String(e.data).split("\n", 1)[0]!);
      ws.close();
    };
    ws.onclose = () => resolve("closed");
    ws.onerror = () => resolve("closed");
  });
}

describe("the broker", () => {
  test("guest is refused on AMQP, and on Web-STOMP from a page of another origin; so is a connection without credentials", async () => {
    const { config } = await useStack();
    const err = await amqp.connect(`amqp://guest:guest@127.0.0.1:${config.BROKER_PORT}`).then(
      async (c) => (await c.close(), "connected"),
      (e: Error) => e.message,
    );
    expect(err).toContain("ACCESS_REFUSED");
    expect(await stompConnect(config, { login: "guest", passcode: "guest" })).not.toBe("CONNECTED");
    expect(await stompConnect(config, {})).not.toBe("CONNECTED");
    // The bridge's own credentials do work (so the refusals above are about the credentials).
    const { login, passcode } = stompLogin(config);
    expect(await stompConnect(config, { login, passcode }, "http://127.0.0.1")).toBe("CONNECTED");
  }, 60_000);

  test("each role is refused what it does not need", async () => {
    const { config } = await useStack();
    const job = newId();
    const { download: DOWNLOAD_QUEUE, compress: COMPRESS_QUEUE } = queues(config.QUEUE_TYPE);
    const ops: Record<string, [(ch: ConfirmChannel) => Promise<unknown>, Role[]]> = {
      "declare a queue": [(ch) => ch.assertQueue("linkpack.intruder", { durable: false, autoDelete: true }), ["admin"]],
      "publish a link event": [publish(PROGRESS_EXCHANGE, keys.link(job)), ["compressor", "tester", "admin"]],
      "publish a file event": [publish(PROGRESS_EXCHANGE, keys.file(job, 0)), ["downloader", "tester", "admin"]],
      "publish a clock tick": [publish(PROGRESS_EXCHANGE, keys.clock), ["clock", "tester", "admin"]],
      "publish a download request": [publish(WORK_EXCHANGE, keys.download(job)), ["web", "tester", "admin"]],
      "publish a compress request": [publish(WORK_EXCHANGE, keys.compress(job)), ["compressor", "tester", "admin"]],
      "send a message back to the download queue": [publish(RETRY_EXCHANGE, DOWNLOAD_QUEUE), ["downloader", "admin"]],
      "send a message back to the web's queue": [publish(RETRY_EXCHANGE, WEB_PROGRESS_QUEUE), ["web", "admin"]],
      "publish straight to a queue": [publish("", DOWNLOAD_QUEUE), ["admin"]],
      "watch every job's events": [async (ch) => ch.bindQueue((await ch.assertQueue("", { exclusive: true })).queue, PROGRESS_EXCHANGE, "#"), ["observer", "tester", "admin"]],
      "watch the dead letters": [async (ch) => ch.bindQueue((await ch.assertQueue("", { exclusive: true })).queue, DEAD_EXCHANGE, ""), ["tester", "admin"]],
    };
    const consumes: [string, Role][] = [[DOWNLOAD_QUEUE, "downloader"], [COMPRESS_QUEUE, "compressor"], [WEB_PROGRESS_QUEUE, "web"]];
    const got: string[] = [];
    const want: string[] = [];
    for (const role of ROLES) {
      for (const [name, [op, allowed]] of Object.entries(ops)) {
        got.push(`${role}: ${name}: ${await attempt(config, role, op)}`);
        want.push(`${role}: ${name}: ${allowed.includes(role) ? "ok" : "refused"}`);
      }
      // Consuming takes messages, so only the refusals are tried (the servers prove the rest).
      for (const [queue, owner] of consumes) {
        if (role === owner || role === "admin") continue;
        got.push(`${role}: consume ${queue}: ${await attempt(config, role, (ch) => ch.consume(queue, () => {}))}`);
        want.push(`${role}: consume ${queue}: refused`);
      }
    }
    expect(got).toEqual(want);
  }, 120_000);

  test("the web server's STOMP user reads one job's events or the clock, but cannot watch every job or publish", async () => {
    const { config } = await useStack();
    const { login, passcode } = stompLogin(config);
    const frames = await stompSession(config, login, passcode, [
      `SUBSCRIBE\nid:0\ndestination:${stompDestination(keys.jobAll(newId()))}\nreceipt:ok-job\n\n\0`,
      `SUBSCRIBE\nid:1\ndestination:${stompDestination(keys.clock)}\nreceipt:ok-clock\n\n\0`,
      `SEND\ndestination:${stompDestination(keys.link(newId()))}\ncontent-type:application/json\nreceipt:sent\n\n{}\0`,
    ]);
    // The SEND is refused: no receipt, and the broker ends the session (with or without an ERROR frame first).
    expect(frames.slice(0, 3)).toEqual(["CONNECTED", "RECEIPT ok-job", "RECEIPT ok-clock"]);
    expect(frames.filter((f) => f !== "ERROR").slice(3)).toEqual(["CLOSED"]);
    const all = await stompSession(config, login, passcode, [`SUBSCRIBE\nid:0\ndestination:${stompDestination("#")}\nreceipt:all\n\n\0`]);
    expect(all.filter((f) => f !== "ERROR")).toEqual(["CONNECTED", "CLOSED"]);
  }, 60_000);

  test("a forged link event (by a holder of a publishing role) is dead-lettered and never shown live: the job keeps its own link", async () => {
    const { config, web, fixtures } = await useStack();
    const photo = photos()[0]!;
    const id = await submit(web, [fixtures.route(`/forge-${newId()}/${photo.name}`, trickle(photo.bytes, 1500), photo.type)]);
    // A page watching the job live (its stream is fed by STOMP, not by the store).
    const page = await sseClient(`${web}/jobs/${id}/events?format=json`);
    await page.next((e) => e.event === "job");
    const forged = { v: 1, type: "link", jobId: id, link: "https://evil.example/x.zip", expiresAt: new Date(Date.now() + 3_600_000).toISOString(), bytes: 1, entries: 1, at: Date.now() };
    expect(await attempt(config, "compressor", (ch) => new Promise<void>((resolve, reject) => ch.publish(PROGRESS_EXCHANGE, keys.link(id), Buffer.from(JSON.stringify(forged)), {}, (e) => (e ? reject(e) : resolve()))))).toBe("ok");
    await waitForLog(config, "web", ["malformed message dead-lettered", "not the job's signed archive link"]);
    expect((await getJob(web, id)).link).toBeNull();
    const job = await waitFinal(web, id);
    expect(job.state).toBe("ready");
    expect(job.link).toStartWith(`${config.PUBLIC_URL}/d/`);
    await page.next((e) => e.event === "done");
    page.close();
    expect(page.seen.filter((e) => e.data.includes("evil.example"))).toEqual([]);
    expect(page.seen.some((e) => e.data.includes(job.link!))).toBe(true);
  }, 60_000);
});

/**
 * A STOMP session over Web-STOMP: CONNECT, then `frames` one after another;
 * returns the first line of each frame received (with its receipt id), then
 * "CLOSED" if the broker ended the session or "OPEN" if it was still open
 * after 5 s.
 */
async function stompSession(config: Config, login: string, passcode: string, frames: string[]): Promise<string[]> {
  const ws = new WebSocket(config.STOMP_URL[0]!, ["v12.stomp"]);
  const got: string[] = [];
  return new Promise((resolve) => {
    const timer = setTimeout(() => (got.push("OPEN"), ws.close(), resolve(got)), 5000);
    ws.onopen = () => ws.send(`CONNECT\naccept-version:1.2\nhost:/\nlogin:${login}\npasscode:${passcode}\n\n\0`);
    ws.onmessage = (e) => {
      const text = String(e.data);
      const cmd = text.split("\n", 1)[0]!;
      const receipt = /receipt-id:(\S+)/.exec(text)?.[1];
      got.push(receipt ? `${cmd} ${receipt}` : cmd);
      if (cmd === "CONNECTED") for (const f of frames) ws.send(f);
    };
    ws.onclose = () => {
      clearTimeout(timer);
      got.push("CLOSED");
      resolve(got);
    };
  });
}
