/**
 * The Python client as a user gets it: `pip install clients/python` into a fresh virtual
 * environment in a temporary folder outside the repository (no package index: --no-index, so
 * the build needs nothing but the standard library), then the client's unittest suite run from
 * a copy of clients/python/tests against a real server, importing the installed package. The
 * server gets a workspace, a connection with a hostile password, a `secret` connection when the
 * server has that type, and a RESOLVE token.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createConnection, createWorkspace, signUp } from "../support/factories";
import { servicesRequired } from "../servers/availability";

const CLIENT_SOURCE = fileURLToPath(new URL("../../clients/python/", import.meta.url));
const PASSWORD = "p@ss:w/rd %+? #";
const SECRET_VALUE = "sk_live_\u00e9 \"quoted\" #1";
// Another interpreter to create the environment with (e.g. an older Python), for runs by hand.
const PYTHON = process.env.PATCHBAY_TEST_PYTHON || "python3";

/** python3 with the venv module and ensurepip (Debian ships those in python3-venv). */
function pythonWithVenv(): boolean {
  try {
    execFileSync(PYTHON, ["-c", "import venv, ensurepip"], { stdio: "ignore", timeout: 30_000 });
    return true;
  } catch {
    const message = "python3 with venv is not installed: the Python client is tested in a fresh virtual environment (apt-get install python3-venv, or see .ci/run).";
    if (servicesRequired) throw new Error(`REQUIRE_SERVICES=1 but ${message}`);
    console.warn(`skipping: ${message}`);
    return false;
  }
}

const python = pythonWithVenv();

let app: TestApp;
let token: string;
let boundToken: string;
let work: string;
let secret: { name: string; value: string } | null = null;
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

/** An environment without this process's Python settings, so nothing from the repository leaks in. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(PYTHON|PIP_|VIRTUAL_ENV$|PATCHBAY_)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, PYTHONDONTWRITEBYTECODE: "1", PYTHONNOUSERSITE: "1", PIP_DISABLE_PIP_VERSION_CHECK: "1", ...extra };
}

function run(command: string, args: string[], cwd: string, env: Record<string, string>, timeoutMs: number) {
  return new Promise<{ code: number | null; output: string; stderr: string }>((resolve, reject) => {
    // Asynchronous on purpose: the server answering the child runs in this process.
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output: `${stdout}\n${stderr}`, stderr });
    });
  });
}

/** Creates a connection of type `secret` holding SECRET_VALUE in the field the type marks secret. */
async function createSecret(owner: GraphQLClient, workspaceId: string): Promise<{ name: string; value: string } | null> {
  const types = await owner.ok(`query { connectionTypes { id fields { name secret } } }`);
  const type = types.connectionTypes.find((t: { id: string }) => t.id === "secret");
  if (!type) return null;
  const field: string = type.fields.find((f: { secret: boolean }) => f.secret)?.name ?? "password";
  const input: Record<string, unknown> = { name: "api_key_variable", type: "secret", description: "An Airflow variable" };
  if (field.startsWith("extra.")) input.extra = { [field.slice("extra.".length)]: SECRET_VALUE };
  else input[field] = SECRET_VALUE;
  await owner.ok(`mutation($w: ID!, $input: ConnectionInput!) { createConnection(workspaceId: $w, input: $input) { id } }`, {
    w: workspaceId,
    input,
  });
  return { name: "api_key_variable", value: SECRET_VALUE };
}

describe.skipIf(!python)("Python client, installed with pip into a fresh virtual environment", () => {
  const venvPython = () => join(work, "venv", "bin", "python");

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "patchbay-python-"));
    app = await startTestApp();
    const owner = await signUp(new GraphQLClient(app.url), "owner");
    const workspace = await createWorkspace(owner.client);
    const { name, conn_type, ...fields } = expected;
    await createConnection(owner.client, workspace.id, { name, type: conn_type, ...fields });
    secret = await createSecret(owner.client, workspace.id);
    token = (await createApiToken(owner.client, workspace.id, ["RESOLVE"], "python")).token;
    const { id } = (await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "warehouse") { id } } }`, { s: workspace.slug }))
      .workspace.connection;
    await owner.client.ok(`mutation($id: ID!) { setConnectionOverride(id: $id, environment: "prod", patch: { host: "prod-db.example.com", login: "prod_reader" }) { version } }`, {
      id,
    });
    boundToken = (
      await owner.client.ok(`mutation($w: ID!) { createApiToken(workspaceId: $w, name: "prod-python", scopes: [RESOLVE], environment: "prod") { token } }`, {
        w: workspace.id,
      })
    ).createApiToken.token;
  });

  afterAll(async () => {
    await app?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("installs with pip install clients/python, offline", { timeout: 180_000 }, async () => {
    const venv = await run(PYTHON, ["-m", "venv", join(work, "venv")], work, cleanEnv({}), 120_000);
    expect(venv.code, venv.output).toBe(0);
    // --no-index: nothing may come from a package index, not even a build backend.
    const pip = await run(venvPython(), ["-m", "pip", "install", "--no-index", CLIENT_SOURCE], work, cleanEnv({}), 120_000);
    expect(pip.code, pip.output).toBe(0);
    expect(pip.output).toMatch(/Successfully installed patchbay-client-\d+\.\d+\.\d+/);
    const where = await run(venvPython(), ["-c", "import patchbay; print(patchbay.__file__)"], work, cleanEnv({}), 60_000);
    expect(where.code, where.output).toBe(0);
    expect(where.output.trim().startsWith(join(work, "venv"))).toBe(true);
  });

  it("passes its unittest suite from the installed package against this server", { timeout: 180_000 }, async () => {
    cpSync(join(CLIENT_SOURCE, "tests"), join(work, "tests"), { recursive: true, filter: (path) => !path.includes("__pycache__") });
    const env = cleanEnv({
      PATCHBAY_URL: app.url,
      PATCHBAY_TOKEN: token,
      PATCHBAY_TEST_CONNECTION: JSON.stringify(expected),
      PATCHBAY_CLIENT_SOURCE: CLIENT_SOURCE,
      ...(secret ? { PATCHBAY_TEST_SECRET: JSON.stringify(secret) } : {}),
    });
    const result = await run(venvPython(), ["-m", "unittest", "discover", "-v", "-s", "tests", "-t", "tests"], work, env, 150_000);
    expect(result.code, result.output).toBe(0);
    expect(result.stderr).toMatch(/Ran ([3-9]\d|\d{3,}) tests/);
    // Only two skips are allowed: sqlalchemyUrl while the server lacks the field, and the
    // standard-library check on a Python older than 3.10 (PATCHBAY_TEST_PYTHON).
    const allowed = [/^test_sqlalchemy_url /, /^test_every_import_is_the_standard_library .* skipped 'needs Python >= 3\.10'/];
    const skipped = result.stderr.split("\n").filter((line) => /\.\.\. skipped/.test(line));
    expect(skipped.filter((line) => !allowed.some((pattern) => pattern.test(line))), result.output).toEqual([]);
    for (const hidden of [PASSWORD, token, SECRET_VALUE]) expect(result.output).not.toContain(hidden);
  });

  it("resolves an environment's values through GraphQL, REST and the secrets backend, from PATCHBAY_ENVIRONMENT or environment=", { timeout: 60_000 }, async () => {
    const script = [
      "import json",
      "from patchbay.client import Client",
      "from patchbay.errors import PatchbayError",
      "from patchbay.secrets_backend import PatchbaySecretsBackend",
      "from_env = Client()",
      "backend = PatchbaySecretsBackend(environment='prod')",
      "out = {'environment': from_env.environment, 'graphql': from_env.connection('warehouse').login,",
      "       'rest': json.loads(from_env.airflow_json('warehouse'))['host'],",
      "       'backend': json.loads(backend.get_conn_value('warehouse'))['login'],",
      "       'staging': Client(environment='staging').connection('warehouse').host}",
      "try:",
      "    Client(token=__import__('os').environ['BOUND'], environment='dev').connection('warehouse')",
      "except PatchbayError as error:",
      "    out['other'] = error.code",
      "out['bound'] = Client(token=__import__('os').environ['BOUND'], environment=None).connection('warehouse').host",
      "print(json.dumps(out))",
    ].join("\n");
    const env = cleanEnv({ PATCHBAY_URL: app.url, PATCHBAY_TOKEN: token, PATCHBAY_ENVIRONMENT: "prod", BOUND: boundToken });
    const result = await run(venvPython(), ["-c", script], work, env, 50_000);
    expect(result.code, result.output).toBe(0);
    expect(JSON.parse(result.output.trim().split("\n")[0])).toEqual({
      environment: "prod",
      graphql: "prod_reader",
      rest: "prod-db.example.com",
      backend: "prod_reader",
      staging: "db.example.com",
      other: "FORBIDDEN",
      bound: "prod-db.example.com",
    });
  });
});
