/**
 * @module nginx
 * Renders nginx/nginx.conf.template into RUN_DIR/nginx/ (mode 0600, it holds
 * the link secret and the internal token) and gives the command that runs it unprivileged-style:
 * `nginx -p PREFIX -c CONF`, in the foreground, every path under RUN_DIR.
 */
import { accessSync, closeSync, constants, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ROOT, type Config } from "../../servers/shared/config.ts";
import { LINK_LOCATION } from "../../servers/shared/link.ts";
import { LOG_FORMAT } from "../../servers/linkguard/accesslog.ts";

const nginxDir = (c: Config) => `${c.RUN_DIR}/nginx`;

/** True if user "nobody" (nginx's default worker user) can reach files under `dir`. */
function worldTraversable(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (d === "/") return true;
  }
}

/** nginx's `server_name` list: the allowed hosts (an IPv6 address in brackets, as it arrives in Host). */
const serverNames = (c: Config) => c.ALLOWED_HOSTS.map((h) => (h.includes(":") ? `[${h}]` : h)).join(" ");

/** Writes the config and folders; returns the config path. */
export function renderNginx(c: Config, secrets: { linkSecret: string; internalToken: string }): string {
  const dir = nginxDir(c);
  for (const sub of ["tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"]) mkdirSync(`${dir}/${sub}`, { recursive: true });
  mkdirSync(c.ARCHIVES_DIR, { recursive: true, mode: 0o755 });
  // As root, nginx's workers run as "nobody"; if nobody cannot reach the
  // archive folder (a repository under /root, say), keep the workers' user.
  const root = process.getuid?.() === 0;
  const userLine = root && !worldTraversable(c.ARCHIVES_DIR) ? "user root;  # archive folder not reachable by nobody" : "";
  const vars: Record<string, string | number> = {
    NGINX_DIR: dir,
    NGINX_PID_FILE: c.NGINX_PID_FILE,
    USER_LINE: userLine,
    HOST: c.HOST,
    NGINX_PORT: c.NGINX_PORT,
    SERVER_NAMES: serverNames(c),
    SECRET: secrets.linkSecret,
    INTERNAL_TOKEN: secrets.internalToken,
    GUARD_HOST: c.GUARD_HOST,
    GUARD_PORT: c.GUARD_PORT,
    GUARD_LOG_FILE: c.GUARD_LOG_FILE,
    LOG_FORMAT,
    LINK_LOCATION,
    SEND_TIMEOUT: c.LINK_SEND_TIMEOUT_SECONDS,
    ARCHIVES_DIR: c.ARCHIVES_DIR,
  };
  const template = readFileSync(`${ROOT}/nginx/nginx.conf.template`, "utf8");
  const conf = template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    if (!(k in vars)) throw new Error(`nginx template: unknown placeholder {{${k}}}`);
    return String(vars[k]);
  });
  const path = `${dir}/nginx.conf`;
  writeFileSync(path, conf, { mode: 0o600 });
  // nginx would create its access log world-readable; made first, it stays 0600 (it names lease tokens).
  mkdirSync(dirname(c.GUARD_LOG_FILE), { recursive: true });
  closeSync(openSync(c.GUARD_LOG_FILE, "a", 0o600));
  return path;
}

export function nginxCmd(c: Config): string[] {
  return [nginxBinary(), "-p", `${nginxDir(c)}/`, "-c", `${nginxDir(c)}/nginx.conf`];
}

export function nginxBinary(): string {
  for (const p of ["/usr/sbin/nginx", "/usr/bin/nginx"]) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return "nginx";
}
