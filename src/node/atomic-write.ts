/**
 * Writing a file so that a crash never leaves it torn.
 *
 * The bytes go to a temporary file in the same folder, which is flushed to
 * disk (`fsync`) and then renamed over the target; renaming within one
 * file system is atomic, so a reader (or a process that was killed
 * mid-save) sees either the old file or the new one, never a mix or a
 * truncation. The folder is flushed last so that the rename itself survives
 * a power loss. This is the classic recipe of `rename(2)`'s atomicity
 * guarantee, as editors and databases use it.
 *
 * Deliberately left out: Windows' replace-on-rename caveats (Node's
 * `renameSync` maps to `MoveFileEx` with replace, which is what we want) and
 * cross-device targets (the temporary file is always beside the target).
 */

import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/**
 * Writes `data` (bytes, or text as UTF-8) to `path` atomically: afterwards
 * the file holds exactly `data`, and at no moment, even if the process dies, does it hold
 * anything but the old contents or the new. Throws the file system's error
 * (the old file untouched, no temporary file left) when the write fails.
 *
 * @example
 * writeFileAtomic("out/model.safetensors", saveTree(params));
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const target = resolve(path);
  const folder = dirname(target);
  const temporary = join(folder, `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(temporary, "wx", 0o644);
  try {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
    closeSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw e;
  }
  try {
    renameSync(temporary, target);
  } catch (e) {
    rmSync(temporary, { force: true });
    throw e;
  }
  syncFolder(folder);
}

/** Flushes a folder's entries to disk, where the platform allows opening a folder (not on Windows). */
function syncFolder(folder: string): void {
  let fd: number;
  try {
    fd = openSync(folder, "r");
  } catch {
    return; // NOTE: Windows cannot open a folder; there the rename is as durable as the platform makes it.
  }
  try {
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a folder (EINVAL); the rename has happened and is visible.
  } finally {
    closeSync(fd);
  }
}
