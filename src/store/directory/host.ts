// Small file-system facts shared by the atomic write (atomic.ts) and the swap (swap.ts), apart
// so that neither imports the other back.
import { createHash } from "node:crypto";
import { hostname } from "node:os";

let host: string | undefined;
/** This machine or container, as 8 hex digits of its hostname (a container's is its id). */
export function hostTag(): string {
  return (host ??= createHash("sha256").update(hostname()).digest("hex").slice(0, 8));
}

/** The error of a path that is not there (or whose folder is not). */
export function isNotFound(err: unknown): boolean {
  return typeof err === "object" && err !== null && "code" in err && (err.code === "ENOENT" || err.code === "ENOTDIR");
}
