/**
 * Starts a throwaway Dovecot IMAP server for a test file, following
 * shared/recipes/test-services.md (as root): a temp directory (mode 755, so Dovecot's
 * unprivileged login processes can reach it), a passwd-file of users, mail homes owned by
 * nobody:nogroup, and free ports on 127.0.0.1. With `tls`, it also offers STARTTLS and an
 * implicit-TLS listener. Plain-text logins are allowed: Dovecot counts connections from its
 * own host as secured anyway.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/net/free-port";
import { findProgram, serviceAvailable, servicesRequired } from "./availability";

export interface DovecotOptions {
  /** user name → password; stored as {PLAIN} in the passwd-file. */
  users: Record<string, string>;
  /** PEM files for STARTTLS and implicit TLS; without them Dovecot offers no TLS at all. */
  tls?: { certFile: string; keyFile: string };
  startTimeoutMs?: number;
}

export interface DovecotHandle {
  host: "127.0.0.1";
  /** Plain IMAP (with STARTTLS when started with `tls`). */
  port: number;
  /** Implicit TLS; null without `tls`. */
  tlsPort: number | null;
  /** Dovecot's log so far, to check what a client did. */
  log(): Promise<string>;
  stop(): Promise<void>;
}

/** Debian's nobody and nogroup, which the mail processes run as. */
const NOBODY = 65534;
const NOGROUP = 65534;

/**
 * Whether Dovecot can be started here: installed, and this process is root (Dovecot started
 * by anyone else cannot create its sockets for its own service users). Otherwise prints why
 * and returns false, or throws under REQUIRE_SERVICES=1, like serviceAvailable().
 */
export function dovecotAvailable(why: string): boolean {
  if (!serviceAvailable("dovecot", why)) return false;
  if (userInfo().uid === 0) return true;
  const message = `Dovecot is started as root in these tests: ${why}.`;
  if (servicesRequired) throw new Error(`REQUIRE_SERVICES=1 but ${message}`);
  console.warn(`skipping: ${message}`);
  return false;
}

export async function startDovecot(options: DovecotOptions): Promise<DovecotHandle> {
  const dovecot = findProgram("dovecot");
  if (!dovecot) throw new Error("dovecot is not installed");

  const dir = await mkdtemp(join(tmpdir(), "patchbay-dovecot-"));
  const port = await freePort();
  const tlsPort = options.tls ? await freePort() : null;
  let child: ChildProcess | undefined;
  try {
    await chmod(dir, 0o755);
    const home = join(dir, "home");
    await mkdir(home, { mode: 0o755 });
    await chown(home, NOBODY, NOGROUP);
    const users = Object.entries(options.users).map(([name, password]) => `${name}:{PLAIN}${password}`);
    await writeFile(join(dir, "users"), `${users.join("\n")}\n`, { mode: 0o644 });
    const configFile = join(dir, "dovecot.conf");
    await writeFile(configFile, config(dir, port, tlsPort, options.tls));

    child = spawn(dovecot, ["-F", "-c", configFile], { stdio: "ignore", cwd: dir });
    const exited = new Promise<never>((_, reject) =>
      child!.once("exit", (code) => reject(new Error(`dovecot exited with ${code}; see ${dir}/log`))),
    );
    exited.catch(() => {});
    await Promise.race([waitForGreeting(port, options.startTimeoutMs ?? 15_000), exited]);
    return {
      host: "127.0.0.1",
      port,
      tlsPort,
      log: () => readFile(join(dir, "log"), "utf8").catch(() => ""),
      async stop() {
        await stopProcess(child!);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (child) await stopProcess(child);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function config(dir: string, port: number, tlsPort: number | null, tls: DovecotOptions["tls"]): string {
  const ssl = tls ? [`ssl = yes`, `ssl_cert = <${tls.certFile}`, `ssl_key = <${tls.keyFile}`] : [`ssl = no`];
  return [
    `base_dir = ${dir}/run`,
    `state_dir = ${dir}/state`,
    `log_path = ${dir}/log`,
    `protocols = imap`,
    `listen = 127.0.0.1`,
    ...ssl,
    `disable_plaintext_auth = no`,
    `auth_mechanisms = plain login`,
    // A wrong password is answered at once, not after Dovecot's default two seconds.
    `auth_failure_delay = 0`,
    `imap_id_send = name * version *`,
    `passdb {`,
    `  driver = passwd-file`,
    `  args = scheme=PLAIN username_format=%u ${dir}/users`,
    `}`,
    `userdb {`,
    `  driver = static`,
    `  args = uid=nobody gid=nogroup home=${dir}/home/%u`,
    `}`,
    `mail_location = maildir:~/Maildir`,
    // Without the penalty socket the auth process keeps no per-IP penalty: otherwise every
    // login after a failed one from 127.0.0.1 waits 2, 4, 8... seconds.
    `service anvil {`,
    `  unix_listener anvil-auth-penalty {`,
    `    mode = 0`,
    `  }`,
    `}`,
    `service imap-login {`,
    `  inet_listener imap {`,
    `    port = ${port}`,
    `  }`,
    `  inet_listener imaps {`,
    `    port = ${tlsPort ?? 0}`,
    ...(tlsPort ? [`    ssl = yes`] : []),
    `  }`,
    `}`,
    ``,
  ].join("\n");
}

/** Resolves once Dovecot greets with its capabilities (its auth process is then up). */
async function waitForGreeting(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await greets(port)) return;
    if (Date.now() > deadline) throw new Error(`Dovecot did not greet within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let received = "";
    const done = (ready: boolean) => {
      socket.destroy();
      resolve(ready);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on("error", () => done(false));
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
      if (/^\* OK \[CAPABILITY /m.test(received)) done(true);
    });
    socket.on("close", () => done(false));
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(killer);
}
