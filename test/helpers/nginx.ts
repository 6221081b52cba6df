import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const NGINX = "/usr/sbin/nginx";

/** A request as nginx logged it. */
export interface LoggedRequest {
  method: string;
  uri: string;
  status: number;
  authorization: string;
}

export interface NginxCache {
  url: string;
  port: number;
  /** The WebDAV root: `cas/` and `ac/` appear under it. */
  root: string;
  requests(): Promise<LoggedRequest[]>;
  /** Stops the server (the test goes on); safe to call twice. */
  stop(): Promise<void>;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
}

/** A free TCP port on 127.0.0.1, as the kernel hands it out. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Debian's nginx serving WebDAV on 127.0.0.1 (the Bazel HTTP cache protocol
 * as plain files), with its config, temp folders, logs and pid in a temp
 * folder. With `token`, requests without `Authorization: Bearer <token>` get 401;
 * with `refuseWrites`, every PUT gets 405 (a cache served read-only).
 */
export async function startNginxCache(options: { token?: string; refuseWrites?: boolean } = {}): Promise<NginxCache> {
  const dir = await mkdtemp(join(tmpdir(), "storyc-nginx-"));
  const root = join(dir, "data");
  await mkdir(root);
  const port = await freePort();
  const auth = options.token ? `if ($http_authorization != "Bearer ${options.token}") { return 401; }` : "";
  await writeFile(
    join(dir, "nginx.conf"),
    `${process.getuid?.() === 0 ? "user root root;" : ""}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  log_format requests '$request_method $uri $status "$http_authorization"';
  access_log ${dir}/access.log requests;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_max_body_size 0;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / {
      ${auth}
      dav_methods ${options.refuseWrites ? "off" : "PUT DELETE"};
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }
  }
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let running = true;
  void exited.then(() => (running = false));

  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (!running || Date.now() > deadline) {
      child.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
      throw new Error(`nginx did not start on 127.0.0.1:${port}: ${stderr}`);
    }
    await sleep(50);
  }

  const stop = async () => {
    if (!running) return;
    child.kill("SIGTERM");
    // A bounded wait; nginx stops in milliseconds, SIGKILL if it does not.
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    root,
    async requests() {
      const path = join(dir, "access.log");
      if (!existsSync(path)) return [];
      return (await readFile(path, "utf8"))
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const [method, uri, status, ...rest] = line.split(" ");
          return { method: method!, uri: uri!, status: Number(status), authorization: rest.join(" ").replace(/^"|"$/g, "") };
        });
    },
    stop,
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
