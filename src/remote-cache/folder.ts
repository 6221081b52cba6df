import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { dirname, join } from "node:path";
import { atMost, RemoteStoreError, type RemotePath, type RemoteStore } from "./store.js";

/**
 * A team cache on a shared folder (a network drive): `<dir>/cas/<sha256>`
 * and `<dir>/ac/<key>`, the same layout as the HTTP protocol. Writes go
 * through a temporary file and a rename, so a reader on another machine sees
 * a whole blob or none.
 */
export class FolderStore implements RemoteStore {
  readonly location: string;

  constructor(private readonly dir: string) {
    this.location = dir;
  }

  async get(path: RemotePath): Promise<Buffer | null> {
    try {
      return await readFile(join(this.dir, path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw this.failure("read", path, error);
    }
  }

  async has(path: RemotePath): Promise<boolean> {
    try {
      return (await stat(join(this.dir, path))).isFile();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw this.failure("read", path, error);
    }
  }

  async put(path: RemotePath, body: Buffer): Promise<void> {
    await this.write(path, (temp) => writeFile(temp, body));
  }

  async download(path: RemotePath, file: string, limit: number): Promise<boolean> {
    try {
      await pipeline(createReadStream(join(this.dir, path)), atMost(limit), createWriteStream(file));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw this.failure("read", path, error);
    }
  }

  async upload(path: RemotePath, file: string, _size: number): Promise<void> {
    await this.write(path, (temp) => copyFile(file, temp));
  }

  private async write(path: RemotePath, fill: (temp: string) => Promise<void>): Promise<void> {
    const target = join(this.dir, path);
    const temp = `${target}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await mkdir(dirname(target), { recursive: true });
      await fill(temp);
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw this.failure("write", path, error);
    }
  }

  async close(): Promise<void> {}

  private failure(what: "read" | "write", path: RemotePath, error: unknown): RemoteStoreError {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    // A folder we may read and not write (a read-only share) refuses writes; anything else is an outage.
    const refused = what === "write" && (code === "EACCES" || code === "EPERM" || code === "EROFS");
    return new RemoteStoreError(refused ? "refused" : "unavailable", `cannot ${what} ${path.split("/")[0]} in ${this.location}: ${code}`);
  }
}
