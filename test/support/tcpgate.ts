/**
 * @module tcpgate
 * A TCP pass-through on 127.0.0.1 in front of a server (the test's
 * PostgreSQL, say) that a test can shut: `cut()` drops every connection and
 * stops listening, so new ones are refused, as with a database that went
 * away; `restore()` listens on the same port again. Stands between one stack and its database
 * without touching the database other tests share.
 */
import type { Socket, TCPSocketListener } from "bun";

export interface TcpGate {
  port: number;
  cut(): void;
  restore(): void;
  stop(): void;
}

type Side = { peer: Socket<Side> | null; pending: Uint8Array[] };

export function startTcpGate(host: string, port: number): TcpGate {
  const live = new Set<Socket<Side>>();
  const drop = (s: Socket<Side> | null) => {
    if (!s) return;
    live.delete(s);
    s.end();
  };
  const listen = (on: number): TCPSocketListener<Side> => Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: on,
    socket: {
      open(client) {
        client.data = { peer: null, pending: [] };
        live.add(client);
        void Bun.connect<Side>({
          hostname: host,
          port,
          socket: {
            open(server) {
              server.data = { peer: client, pending: [] };
              live.add(server);
              client.data.peer = server;
              for (const chunk of client.data.pending.splice(0)) server.write(chunk);
            },
            data: (server, chunk) => void server.data.peer?.write(chunk),
            close: (server) => drop(server.data.peer),
            error: (server) => drop(server.data.peer),
          },
        }).catch(() => drop(client));
      },
      data(client, chunk) {
        if (client.data.peer) client.data.peer.write(chunk);
        else client.data.pending.push(new Uint8Array(chunk));
      },
      close: (client) => drop(client.data?.peer ?? null),
      error: (client) => drop(client.data?.peer ?? null),
    },
  });
  let listener: TCPSocketListener<Side> | null = listen(0);
  const gatePort = listener.port;
  const shut = () => {
    listener?.stop(true);
    listener = null;
    for (const s of [...live]) drop(s);
  };
  return {
    port: gatePort,
    cut: shut,
    restore() {
      listener ??= listen(gatePort);
    },
    stop: shut,
  };
}
