/**
 * @module install
 * Makes sure the system packages linkpack runs on are present: installs them
 * with apt when we are root on Debian/Ubuntu (saying so), otherwise stops with
 * the exact command to run.
 */
import { existsSync } from "node:fs";
import type { Config } from "../../servers/shared/config.ts";
import { childEnv } from "./procs.ts";
import { RABBIT_BIN } from "./rabbitmq.ts";
import { nginxBinary } from "./nginx.ts";
import type { Part } from "./selection.ts";

/** Debian packages missing for this config and the parts this machine runs (`only`, or all). */
export function missingPackages(c: Config, only: Part[] | null = null): string[] {
  const missing: string[] = [];
  const broker = only ? only.includes("rabbitmq") : !c.AMQP_URL;
  if (broker && !existsSync(`${RABBIT_BIN}/rabbitmq-server`)) missing.push("rabbitmq-server");
  if ((!only || only.includes("nginx")) && nginxBinary() === "nginx" && !Bun.which("nginx")) missing.push("nginx");
  return missing;
}

export class MissingPackages extends Error {
  override name = "MissingPackages";
}

/** Installs `pkgs` with apt-get if possible; throws `MissingPackages` with the command otherwise. */
export async function ensurePackages(pkgs: string[], say: (s: string) => void): Promise<void> {
  if (pkgs.length === 0) return;
  const cmd = `apt-get update && apt-get install -y --no-install-recommends ${pkgs.join(" ")}`;
  const canApt = process.getuid?.() === 0 && existsSync("/usr/bin/apt-get");
  if (!canApt) throw new MissingPackages(`linkpack needs ${pkgs.join(" and ")}. Install with:\n  sudo sh -c '${cmd}'\nthen run bun run start again.`);
  say(`Installing ${pkgs.join(", ")} with apt-get (one-time set-up)...`);
  const env = childEnv({ DEBIAN_FRONTEND: "noninteractive" });
  for (const args of [["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", ...pkgs]]) {
    const p = Bun.spawn(args, { env, stdout: "inherit", stderr: "inherit" });
    if ((await p.exited) !== 0) throw new MissingPackages(`"${args.join(" ")}" failed; run it by hand:\n  ${cmd}`);
  }
}
