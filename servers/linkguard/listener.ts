/**
 * @module listener
 * The UDP syslog listener nginx sends the link location's access log to:
 * each finished GET of a link either uses it up or frees its lease.
 */
import type { Logger } from "../shared/log.ts";
import type { LeaseStore } from "./leases.ts";
import { parseAccessLine, verdict } from "./syslog.ts";
import { linkKey } from "./http.ts";

/** Applies one syslog datagram to the store; returns what it did. */
export function applyDatagram(store: Pick<LeaseStore, "markUsed" | "release">, text: string, log?: Logger): "used" | "release" | "ignore" {
  const line = parseAccessLine(text);
  if (!line) {
    log?.debug("ignored syslog datagram", { text: text.slice(0, 200) });
    return "ignore";
  }
  const key = linkKey(line.path);
  const v = key ? verdict(line) : "ignore";
  if (v === "used") store.markUsed(key!);
  else if (v === "release") store.release(key!, line.lease ?? null);
  if (v !== "ignore") log?.info(v === "used" ? "link used up" : "lease released", { key, status: line.status, bytes: line.bytes });
  return v;
}

/** Listens for nginx's syslog datagrams on `host:port`. */
export async function listenSyslog(host: string, port: number, store: LeaseStore, log: Logger) {
  return Bun.udpSocket({
    hostname: host,
    port,
    socket: {
      data(_socket, buf) {
        try {
          applyDatagram(store, buf.toString("utf8"), log);
        } catch (err) {
          log.error("could not apply syslog line", { err });
        }
      },
    },
  });
}
