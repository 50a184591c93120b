/**
 * The Python client (clients/python/patchbay.py) against a real server: this file sets up a
 * workspace, a connection with a hostile password and a RESOLVE token, then runs the
 * client's own unittest suite with python3 and expects it to pass without skips.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createConnection, createWorkspace, signUp } from "../support/factories";
import { serviceAvailable } from "../servers/availability";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PASSWORD = "p@ss:w/rd %+? #";
const python = serviceAvailable("python3", "the Python client's tests run with python3");

let app: TestApp;
let token: string;
const expected = {
  name: "warehouse",
  conn_type: "postgres",
  description: "Reporting replica",
  host: "db.example.com",
  port: 5432,
  schema: "analytics",
  login: "reporter",
  password: PASSWORD,
  extra: { sslmode: "require" },
};

function run(command: string, args: string[], env: Record<string, string>, timeoutMs = 120_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    // Asynchronous on purpose: the server answering the child runs in this process.
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe.skipIf(!python)("Python client", () => {
  beforeAll(async () => {
    app = await startTestApp();
    const owner = await signUp(new GraphQLClient(app.url), "owner");
    const workspace = await createWorkspace(owner.client);
    const { name, conn_type, ...fields } = expected;
    await createConnection(owner.client, workspace.id, { name, type: conn_type, ...fields });
    token = (await createApiToken(owner.client, workspace.id, ["RESOLVE"], "python")).token;
  });

  afterAll(async () => {
    await app?.stop();
  });

  it("passes its unittest suite against this server", async () => {
    const { PATCHBAY_WORKSPACE: _ignored, ...inherited } = process.env;
    const result = await run("python3", ["-m", "unittest", "-v", "clients/python/test_patchbay.py"], {
      ...(inherited as Record<string, string>),
      PATCHBAY_URL: app.url,
      PATCHBAY_TOKEN: token,
      PATCHBAY_TEST_CONNECTION: JSON.stringify(expected),
      PYTHONDONTWRITEBYTECODE: "1",
    });
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.code, output).toBe(0);
    expect(result.stderr).toMatch(/Ran ([1-9]\d+) tests/);
    // Only the sqlalchemyUrl test may skip, and only while the server lacks the field.
    const skipped = result.stderr.split("\n").filter((line) => /\.\.\. skipped/.test(line));
    expect(skipped.filter((line) => !line.startsWith("test_sqlalchemy_url")), output).toEqual([]);
    expect(output).not.toContain(PASSWORD);
    expect(output).not.toContain(token);
  });
});
