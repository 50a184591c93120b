/**
 * The session `patchbay login` keeps: the server's URL and a session token, in
 * `$XDG_CONFIG_HOME/patchbay/session.json` (default `~/.config/patchbay/session.json`, or
 * PATCHBAY_SESSION_FILE), the directory 0700 and the file 0600, so no other account on the
 * machine can read the token. Flags and PATCHBAY_TOKEN win over it.
 */
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface SavedSession {
  url: string;
  token: string;
  email: string;
  savedAt: string;
}

export function sessionPath(env: Record<string, string | undefined>): string {
  if (env.PATCHBAY_SESSION_FILE) return env.PATCHBAY_SESSION_FILE;
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(config, "patchbay", "session.json");
}

export async function readSession(env: Record<string, string | undefined>): Promise<SavedSession | null> {
  let text: string;
  try {
    text = await readFile(sessionPath(env), "utf8");
  } catch {
    return null;
  }
  try {
    const value = JSON.parse(text) as Partial<SavedSession>;
    if (typeof value.url === "string" && typeof value.token === "string") {
      return { url: value.url, token: value.token, email: String(value.email ?? ""), savedAt: String(value.savedAt ?? "") };
    }
  } catch {
    // A damaged file is as good as none; `patchbay login` writes it again.
  }
  return null;
}

export async function saveSession(env: Record<string, string | undefined>, session: SavedSession): Promise<string> {
  const path = sessionPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // Written 0600 from the start, and chmod'ed in case the file existed with a wider mode.
  await writeFile(path, JSON.stringify(session, null, 2) + "\n", { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}

export async function forgetSession(env: Record<string, string | undefined>): Promise<boolean> {
  const path = sessionPath(env);
  try {
    await rm(path);
    return true;
  } catch {
    return false;
  }
}
