// The git store's default working folder lives in the shared temp dir under a predictable name:
// it is created 0700, and one found there is used only when it is this user's, 0700, and no link.
import { chmod, chown, lstat, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { privateDir } from "../../src/store/git/cli.js";

let base: string;
beforeEach(async () => void (base = await mkdtemp(join(tmpdir(), "chaosctl-workdir-"))));
afterEach(async () => rm(base, { recursive: true, force: true }));

describe("the default git working folder", () => {
  it("is created with mode 0700 whatever the umask, and reused when it is ours and 0700", async () => {
    const dir = join(base, "w");
    const old = process.umask(0o000);
    try {
      await privateDir(dir);
    } finally {
      process.umask(old);
    }
    expect((await lstat(dir)).mode & 0o777).toBe(0o700);
    await writeFile(join(dir, "kept"), "x");
    await expect(privateDir(dir)).resolves.toBeUndefined();
    expect((await lstat(join(dir, "kept"))).isFile()).toBe(true);
  });

  it("is refused when it exists with another mode, as a symlink or a file, or with another owner", async () => {
    const open = join(base, "open");
    await mkdir(open);
    await chmod(open, 0o777);
    await expect(privateDir(open)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining("mode 0777"),
    });
    expect((await lstat(open)).mode & 0o777).toBe(0o777); // refused, never repaired

    const theirs = join(base, "theirs");
    await mkdir(theirs, { mode: 0o700 });
    await symlink(theirs, join(base, "link"));
    await expect(privateDir(join(base, "link"))).rejects.toMatchObject({ message: expect.stringContaining("symlink") });
    await writeFile(join(base, "file"), "");
    await expect(privateDir(join(base, "file"))).rejects.toMatchObject({
      message: expect.stringContaining("not a folder"),
    });

    if (process.getuid?.() === 0) {
      await chown(theirs, 65534, 65534);
      await expect(privateDir(theirs)).rejects.toMatchObject({
        message: expect.stringContaining("belongs to uid 65534"),
      });
    }
  });
});
