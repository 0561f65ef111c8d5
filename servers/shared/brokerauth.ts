/**
 * @module brokerauth
 * The broker credentials of each role (permissions.ts). With `AMQP_URL`
 * naming a user, every role uses it; otherwise role `r` logs in as
 * `linkpack-<r>` with the password in `BROKER_CREDENTIALS_DIR/<r>` (minted
 * by `bun run start` for its private broker, mode 0600; copied to the
 * machines that share a broker).
 */
import type { Config } from "./config.ts";
import { userName, type Role } from "./permissions.ts";
import { readSecretFile } from "./secrets.ts";

type BrokerConfig = Pick<Config, "AMQP_URL" | "BROKER_PORT" | "BROKER_NODES" | "BROKER_CREDENTIALS_DIR">;

/** Where role `role`'s password is kept. */
export const credentialFile = (c: Pick<Config, "BROKER_CREDENTIALS_DIR">, role: Role) => `${c.BROKER_CREDENTIALS_DIR}/${role}`;

/** The broker URLs to try, in order: AMQP_URL's comma-separated list, or the private broker's nodes (ports counted up from BROKER_PORT). */
function baseUrls(c: BrokerConfig): URL[] {
  const list = c.AMQP_URL
    ? c.AMQP_URL.split(",").map((s) => s.trim()).filter(Boolean)
    : Array.from({ length: c.BROKER_NODES }, (_, i) => `amqp://127.0.0.1:${c.BROKER_PORT + i}`);
  return list.map((s) => new URL(s));
}

/** The user and password role `role` logs in with. */
export function credentials(c: BrokerConfig, role: Role): { user: string; password: string } {
  const named = baseUrls(c).find((u) => u.username);
  if (named) return { user: decodeURIComponent(named.username), password: decodeURIComponent(named.password) };
  return { user: userName(role), password: readSecretFile(credentialFile(c, role), `BROKER_CREDENTIALS_DIR (${role})`) };
}

/** The AMQP URLs (comma-separated) role `role` connects with, credentials included. */
export function brokerUrl(c: BrokerConfig, role: Role): string {
  const { user, password } = credentials(c, role);
  return baseUrls(c)
    .map((u) => {
      u.username = encodeURIComponent(user);
      u.password = encodeURIComponent(password);
      return u.href.replace(/\/$/, "");
    })
    .join(",");
}

/** The STOMP login of the web server's bridge (RabbitMQ's virtual host from AMQP_URL, default "/"). */
export function stompLogin(c: BrokerConfig): { login: string; passcode: string; vhost: string } {
  const { user, password } = credentials(c, "stomp");
  const path = baseUrls(c)[0]!.pathname.slice(1);
  return { login: user, passcode: password, vhost: decodeURIComponent(path) || "/" };
}
