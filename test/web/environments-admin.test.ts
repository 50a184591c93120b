/**
 * Environments, health and the admin pages (test schedules, webhooks, bundles) end to end, in
 * Debian's headless Chromium against a real server and the run's PostgreSQL, used as a person
 * uses them: by labels and button names. Like connections-page.test.ts, every page must make no
 * request outside the server, log no console error, and have no serious axe-core violation.
 */
import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/net/free-port";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { addMember, createConnection, createWorkspace, PASSWORD, signUp, type SignedUp } from "../support/factories";
import { createPgTarget, type PgTarget } from "../support/pg-target";
import { checkAccessibility, chromiumAvailable, launchChromium, openPage, type RecordedPage, screenshot } from "./support/browser";
import { ensureWebBuild } from "./support/web-build";

const DB_PASSWORD = "Db-pa55word-environments";
const PROD_PASSWORD = "prod-only-Secret-4711";
const PASSPHRASE = "a long bundle passphrase";

let app: TestApp;
let browser: Browser;
let target: PgTarget;
let closedPort: number;
let receiver: Server;
const received: Array<{ headers: IncomingMessage["headers"]; body: string }> = [];
const opened: RecordedPage[] = [];
let owner: SignedUp;
let workspace: { id: string; slug: string };
let connection: { id: string; name: string };

const hasChromium = chromiumAvailable();

async function open(email: string): Promise<Page> {
  const recorded = await openPage(browser, app.url);
  recorded.page.setDefaultTimeout(15_000);
  opened.push(recorded);
  const { page } = recorded;
  await page.goto("/");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Connections" }).waitFor();
  return page;
}

async function expectAccessible(page: Page, what: string): Promise<void> {
  const violations = await checkAccessibility(page);
  expect(violations, `${what}: ${JSON.stringify(violations, null, 2)}`).toEqual([]);
}

function go(page: Page, path: string): Promise<unknown> {
  return page.evaluate((hash) => {
    (globalThis as any).location.hash = hash;
  }, `#/w/${workspace.slug}/${path}`);
}

async function until<T>(check: () => Promise<T | undefined | false>, limitMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!hasChromium)("environments, health and the admin pages in a real browser", () => {
  beforeAll(async () => {
    ensureWebBuild();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    [app, browser, target, closedPort] = await Promise.all([startTestApp(), launchChromium(), createPgTarget(DB_PASSWORD), freePort()]);
    owner = await signUp(new GraphQLClient(app.url), "owner");
    workspace = await createWorkspace(owner.client);
    connection = await createConnection(owner.client, workspace.id, {
      name: "warehouse",
      host: target.host,
      port: target.port,
      schema: target.schema,
      login: target.login,
      password: DB_PASSWORD,
    });
  }, 120_000);

  afterEach(() => {
    for (const recorded of opened) {
      expect(recorded.foreignRequests(), "requests outside the server").toEqual([]);
      expect(recorded.errors, "console errors").toEqual([]);
    }
  });

  afterAll(async () => {
    for (const recorded of opened) await recorded.context.close().catch(() => {});
    await browser?.close();
    await app?.stop();
    await new Promise((r) => receiver?.close(r));
  });

  it("adds an override with the connection form's checks, shows what it replaces (secrets only as set), tests in it, edits and removes it", async () => {
    const page = await open(owner.email);
    await owner.client.ok(`mutation($id: ID!) { testConnection(id: $id) { status } }`, { id: connection.id });
    await go(page, "connections/warehouse");
    await page.getByRole("heading", { name: "warehouse", level: 1 }).waitFor();
    // Health: the one test so far.
    const health = page.getByTestId("health");
    await health.waitFor();
    expect(await health.textContent()).toContain("1 succeeded, 0 failed (100 %)");
    await page.getByText("No environment replaces any of its values.").waitFor();

    await page.getByRole("button", { name: "Add override" }).click();
    const form = page.getByRole("form", { name: "Add an override" });
    await form.waitFor();
    // The connection's values show through as placeholders; nothing is required.
    expect(await form.getByLabel("Host").getAttribute("placeholder")).toBe(target.host);
    await form.getByLabel("Environment").fill("not a name");
    await form.getByLabel("Port").fill("54x");
    await form.getByRole("button", { name: "Save override" }).click();
    await form.locator("#field-environment-error").waitFor();
    expect(await form.locator("#field-port-error").textContent()).toBe("Port must be a whole number.");
    expect(await form.getByLabel("Port").getAttribute("aria-invalid")).toBe("true");

    await form.getByLabel("Environment").fill("prod");
    await form.getByLabel("Port").fill(String(closedPort));
    await form.getByLabel("Password", { exact: true }).fill(PROD_PASSWORD);
    await expectAccessible(page, "override form");
    await form.getByRole("button", { name: "Save override" }).click();
    await page.getByText("Saved the prod override.").waitFor();

    const prod = page.getByTestId("environment-prod");
    expect(await prod.textContent()).toContain(`Port: ${closedPort}`);
    expect(await prod.textContent()).toContain("Password: set");
    expect(await page.content()).not.toContain(PROD_PASSWORD);
    // The snippets for code say how to pick the environment.
    await page.getByText("export PATCHBAY_ENVIRONMENT=prod", { exact: false }).first().waitFor();
    const stored = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "warehouse") { port overrides { environment port secretFields } } } }`, {
      s: workspace.slug,
    });
    expect(stored.workspace.connection).toEqual({ port: target.port, overrides: [{ environment: "prod", port: closedPort, secretFields: ["password"] }] });

    // Test in prod: the override's port answers nothing; recorded on the override, not the connection.
    await prod.getByRole("button", { name: "Test in prod" }).click();
    const outcome = page.getByTestId("environment-test-outcome");
    await outcome.waitFor();
    expect(await outcome.textContent()).toContain("CONNECTION_REFUSED");
    await prod.getByText("FAILURE").waitFor();
    await expectAccessible(page, "connection with an environment");
    await screenshot(page, "connection-environments");

    // The list, seen from prod: its host and port, its last test.
    await go(page, "connections");
    await page.getByLabel("Environment").selectOption("prod");
    const row = page.getByRole("row").filter({ has: page.getByRole("rowheader", { name: "warehouse" }) });
    await row.getByText(`${target.host}:${closedPort}`).waitFor();
    expect(await row.textContent()).toContain("CONNECTION_REFUSED");
    await row.getByRole("button", { name: "Test warehouse in prod" }).waitFor();
    await page.getByLabel("Environment").selectOption("");
    await row.getByText(`${target.host}:${target.port}`).waitFor();
    expect(await row.textContent()).toContain("SUCCESS");

    // Edit: the secret is never filled in; "Use the connection's password" drops it, the port goes back.
    await go(page, "connections/warehouse");
    await page.getByRole("button", { name: "Edit the prod override" }).click();
    const edit = page.getByRole("form", { name: "Edit the prod override" });
    expect(await edit.getByLabel("Password", { exact: true }).inputValue()).toBe("");
    expect(await edit.getByLabel("Port").inputValue()).toBe(String(closedPort));
    // Changed meanwhile (here through the API): saving reports the conflict instead of overwriting.
    await owner.client.ok(`mutation($id: ID!) { updateConnection(id: $id, patch: { description: "moved meanwhile" }) { version } }`, { id: connection.id });
    await edit.getByLabel("Port").fill(String(target.port));
    await edit.getByRole("button", { name: "Save override" }).click();
    await edit.getByText("CONFLICT").waitFor();
    await edit.getByRole("button", { name: "Reload" }).click();
    await page.getByRole("button", { name: "Edit the prod override" }).click();
    expect(await edit.getByLabel("Port").inputValue()).toBe(String(closedPort));
    await edit.getByLabel("Port").fill(String(target.port));
    await edit.getByRole("button", { name: "Use the connection's password" }).click();
    await edit.getByRole("button", { name: "Save override" }).click();
    await prod.getByText(`Port: ${target.port}`).waitFor();
    expect(await prod.textContent()).not.toContain("Password: set");
    await prod.getByRole("button", { name: "Test in prod" }).click();
    await until(async () => (await page.getByTestId("environment-test-outcome").textContent())?.includes("SUCCESS"));

    await prod.getByRole("button", { name: "Remove the prod override" }).click();
    await page.getByRole("dialog", { name: "Remove the prod override?" }).getByRole("button", { name: "Remove" }).click();
    await page.getByText("Removed the prod override", { exact: false }).waitFor();
    const after = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { environments connection(name: "warehouse") { overrides { environment } } } }`, {
      s: workspace.slug,
    });
    expect(after.workspace.connection.overrides).toEqual([]);
    expect(after.workspace.environments).toEqual([]);
  });

  it("works with the keyboard alone: Add override focuses its first field, Enter saves, Escape cancels, focus returns to the section", async () => {
    const page = await open(owner.email);
    await go(page, "connections/warehouse");
    await page.getByRole("heading", { name: "warehouse", level: 1 }).waitFor();
    // Focus moves in an effect after the render that opens or closes the form: wait for it.
    const focused = () => page.evaluate(() => (globalThis as any).document.activeElement?.id as string);
    await page.getByRole("button", { name: "Add override" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("form", { name: "Add an override" }).waitFor();
    await expect.poll(focused, { timeout: 10_000 }).toBe("field-environment");
    await page.keyboard.type("kbd");
    await page.keyboard.press("Tab");
    await expect.poll(focused, { timeout: 10_000 }).toBe("field-host");
    await page.keyboard.type("kbd-db.internal");
    await page.keyboard.press("Enter");
    await page.getByText("Saved the kbd override.").waitFor();
    await expect.poll(focused, { timeout: 10_000 }).toBe("environments-heading");
    expect(await page.getByTestId("environment-kbd").textContent()).toContain("Host: kbd-db.internal");

    await page.getByRole("button", { name: "Edit the kbd override" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(focused, { timeout: 10_000 }).toBe("field-host");
    await page.keyboard.press("Escape");
    await page.getByRole("form", { name: "Edit the kbd override" }).waitFor({ state: "detached" });
    await expect.poll(focused, { timeout: 10_000 }).toBe("environments-heading");

    await page.getByRole("button", { name: "Remove the kbd override" }).focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Remove the kbd override?" });
    await dialog.waitFor();
    await page.keyboard.press("Enter");
    await page.getByText("Removed the kbd override", { exact: false }).waitFor();
    await dialog.waitFor({ state: "hidden" });
  });

  it("an admin creates a webhook, sees its secret once, and sees the signed delivery of a status change", async () => {
    const admin = await signUp(new GraphQLClient(app.url), "admin");
    await addMember(owner.client, workspace.id, admin.email, "ADMIN");
    const page = await open(admin.email);
    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
    await page.getByLabel("URL").fill("ftp://nowhere");
    await page.getByRole("button", { name: "Add webhook" }).click();
    await page.locator("#field-url-error").waitFor();

    const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/patchbay`;
    await page.getByLabel("URL").fill(url);
    await page.getByRole("button", { name: "Add webhook" }).click();
    const shown = page.getByLabel("Signing secret");
    await shown.waitFor();
    const secret = await shown.inputValue();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    await page.getByRole("button", { name: "Copy secret" }).waitFor();
    await page.getByText("it is shown only once", { exact: false }).waitFor();
    await expectAccessible(page, "webhooks page with a new secret");

    // Shown once: after leaving the page it is nowhere in it.
    await page.getByRole("link", { name: "Connections", exact: true }).click();
    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.getByTestId("webhook").waitFor();
    expect(await page.content()).not.toContain(secret);

    // warehouse succeeds now; pointing it at a closed port makes it fail: a status change.
    const before = await owner.client.ok(`mutation($id: ID!) { testConnection(id: $id) { status } }`, { id: connection.id });
    expect(before.testConnection.status).toBe("SUCCESS");
    const moved = await owner.client.ok(`mutation($id: ID!, $p: ConnectionPatch!) { updateConnection(id: $id, patch: $p) { version } }`, {
      id: connection.id,
      p: { port: closedPort },
    });
    expect(moved.updateConnection.version).toBeGreaterThan(1);
    await owner.client.ok(`mutation($id: ID!) { testConnection(id: $id) { status } }`, { id: connection.id });
    const delivery = await until(async () => received[0]);
    const expected = createHmac("sha256", secret).update(delivery.body).digest("hex");
    expect(delivery.headers["x-patchbay-signature"]).toBe(`sha256=${expected}`);
    expect(JSON.parse(delivery.body)).toMatchObject({ connection: { name: "warehouse" }, oldStatus: "SUCCESS", newStatus: "FAILURE" });

    // The attempt's row says SENDING until the receiver's answer is recorded: refresh until it is.
    const hook = page.getByTestId("webhook");
    await until(async () => {
      await page.getByRole("button", { name: "Refresh deliveries" }).click();
      await page.getByRole("button", { name: "Refresh deliveries" }).waitFor();
      return (await hook.textContent())?.includes("DELIVERED");
    });
    expect(await hook.textContent()).toContain("warehouse");
    expect(await hook.textContent()).toContain("HTTP 204");
    await expectAccessible(page, "webhooks page with a delivery");
    await screenshot(page, "webhooks");
    await owner.client.ok(`mutation($id: ID!, $p: ConnectionPatch!) { updateConnection(id: $id, patch: $p) { version } }`, {
      id: connection.id,
      p: { port: target.port },
    });

    await hook.getByRole("button", { name: `Delete the webhook to ${url}` }).click();
    await page.getByRole("dialog", { name: `Delete the webhook to ${url}?` }).getByRole("button", { name: "Delete" }).click();
    await page.getByText("No webhooks yet.").waitFor();
  });

  it("sets test schedules (one connection, one of its environments) with the interval checked, lists them and removes one", async () => {
    await owner.client.ok(`mutation($id: ID!, $p: ConnectionPatch!) { setConnectionOverride(id: $id, environment: "staging", patch: $p) { version } }`, {
      id: connection.id,
      p: { schema: target.schema },
    });
    const page = await open(owner.email);
    await page.getByRole("link", { name: "Test schedules" }).click();
    await page.getByRole("heading", { name: "Test schedules", level: 1 }).waitFor();
    await page.getByText("No schedules", { exact: false }).waitFor();
    await page.getByLabel("Connection").selectOption({ label: "warehouse" });
    await page.getByLabel("Every (minutes)").fill("0");
    await page.getByRole("button", { name: "Set schedule" }).click();
    await page.locator("#field-everyMinutes-error").waitFor();
    await page.getByLabel("Every (minutes)").fill("15");
    await page.getByRole("button", { name: "Set schedule" }).click();
    const own = page.getByRole("row").filter({ has: page.getByRole("rowheader", { name: "warehouse", exact: true }) });
    await own.getByText("15 min").waitFor();
    expect(await own.textContent()).toContain("runs");

    await page.getByLabel("Environment").selectOption("staging");
    await page.getByLabel("Every (minutes)").fill("60");
    await page.getByRole("button", { name: "Set schedule" }).click();
    const staging = page.getByRole("row").filter({ has: page.getByRole("rowheader", { name: "warehouse in staging" }) });
    await staging.getByText("60 min").waitFor();
    await expectAccessible(page, "test schedules page");
    const listed = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { testSchedules { connectionId environment everyMinutes } } }`, { s: workspace.slug });
    const sorted = [...listed.workspace.testSchedules].sort((a, b) => a.everyMinutes - b.everyMinutes);
    expect(sorted).toEqual([
      { connectionId: connection.id, environment: null, everyMinutes: 15 },
      { connectionId: connection.id, environment: "staging", everyMinutes: 60 },
    ]);

    await staging.getByRole("button", { name: "Remove the schedule of warehouse in staging" }).click();
    await page.getByRole("dialog", { name: "Remove the schedule of warehouse in staging?" }).getByRole("button", { name: "Remove" }).click();
    await page.getByText("Removed the schedule of warehouse in staging.").waitFor();
    await own.getByRole("button", { name: "Remove the schedule of warehouse" }).click();
    await page.getByRole("dialog", { name: "Remove the schedule of warehouse?" }).getByRole("button", { name: "Remove" }).click();
    await page.getByText("No schedules", { exact: false }).waitFor();
  });

  it("exports a bundle, and importing it shows the dry run's diff before Apply writes it", async () => {
    const page = await open(owner.email);
    await page.getByRole("link", { name: "Bundles" }).click();
    await page.getByRole("heading", { name: "Bundles", level: 1 }).waitFor();
    await page.getByLabel("Passphrase", { exact: true }).fill("too short");
    await page.getByRole("button", { name: "Export and download" }).click();
    await page.locator("#field-export-passphrase-error").waitFor();
    await page.getByLabel("Passphrase", { exact: true }).fill(PASSPHRASE);
    await page.getByLabel("Passphrase again").fill(PASSPHRASE);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export and download" }).click()]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^${workspace.slug}-\\d{4}-\\d{2}-\\d{2}\\.patchbay-bundle$`));
    const file = await download.path();
    expect((await readFile(file, "utf8")).startsWith("patchbay-bundle.v1.")).toBe(true);

    // Changed after the export: the bundle would put the old host back.
    await owner.client.ok(`mutation($id: ID!, $p: ConnectionPatch!) { updateConnection(id: $id, patch: $p) { version } }`, {
      id: connection.id,
      p: { host: "localhost" },
    });
    await page.getByLabel("Bundle file").setInputFiles(file);
    await page.getByLabel("Bundle passphrase").fill("the wrong passphrase");
    await page.getByRole("button", { name: "Dry run" }).click();
    const wrong = page.locator("#field-import-passphrase-error");
    await wrong.waitFor();
    expect(await wrong.textContent()).toContain("BAD_USER_INPUT");

    await page.getByLabel("Bundle passphrase").fill(PASSPHRASE);
    await page.getByLabel("When a connection exists and differs").selectOption("OVERWRITE");
    await page.getByRole("button", { name: "Dry run" }).click();
    await page.getByText("Dry run, nothing written yet", { exact: false }).waitFor();
    const line = page.getByRole("row").filter({ has: page.getByRole("rowheader", { name: "warehouse" }) });
    expect(await line.textContent()).toContain("UPDATED");
    expect(await line.locator(".changed-field").allTextContents()).toEqual(["host"]);
    await expectAccessible(page, "bundle dry run");
    await screenshot(page, "bundles");
    const untouched = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "warehouse") { host } } }`, { s: workspace.slug });
    expect(untouched.workspace.connection.host).toBe("localhost");

    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByText("Imported:", { exact: false }).waitFor();
    const restored = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "warehouse") { host } } }`, { s: workspace.slug });
    expect(restored.workspace.connection.host).toBe(target.host);
  });

  it("shows a MEMBER no admin page and no override editing, and the API refuses them anyway", async () => {
    const member = await signUp(new GraphQLClient(app.url), "member");
    await addMember(owner.client, workspace.id, member.email, "MEMBER");
    await owner.client.ok(`mutation($id: ID!, $p: ConnectionPatch!) { setConnectionOverride(id: $id, environment: "staging", patch: $p) { version } }`, {
      id: connection.id,
      p: { schema: target.schema },
    });
    const page = await open(member.email);
    const nav = page.getByRole("navigation", { name: /workspace/ });
    for (const hidden of ["Test schedules", "Webhooks", "Bundles", "API tokens"]) expect(await nav.getByRole("link", { name: hidden }).count(), hidden).toBe(0);
    for (const [path, title] of [
      ["webhooks", "Webhooks"],
      ["schedules", "Test schedules"],
      ["bundles", "Bundles"],
    ]) {
      await go(page, path);
      await page.getByRole("heading", { name: title, level: 1 }).waitFor();
      await page.getByText("Only workspace admins and owners", { exact: false }).waitFor();
      expect(await page.getByRole("textbox").count()).toBe(0);
    }
    // On the connection: Test in staging, but neither Add, Edit nor Remove.
    await go(page, "connections/warehouse");
    const staging = page.getByTestId("environment-staging");
    await staging.getByRole("button", { name: "Test in staging" }).waitFor();
    expect(await page.getByRole("button", { name: /Add override|Edit the|Remove the/ }).count()).toBe(0);

    const refused = await member.client.request(`mutation($w: ID!) { createWebhook(workspaceId: $w, url: "http://127.0.0.1:9/x") { secret } }`, { w: workspace.id });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("binds an API token to an environment, exports what an environment sees and imports a file as another's values", async () => {
    await owner.client.ok(`mutation($id: ID!, $p: ConnectionPatch!) { setConnectionOverride(id: $id, environment: "staging", patch: $p) { version } }`, {
      id: connection.id,
      p: { host: "staging-db.internal" },
    });
    const page = await open(owner.email);
    await page.getByRole("link", { name: "API tokens" }).click();
    await page.getByLabel("Token name").fill("staging-etl");
    await page.getByLabel("RESOLVE").check();
    await page.getByLabel("Environment (optional)").fill("not a name");
    await page.getByRole("button", { name: "Create token" }).click();
    await page.locator("#field-token-environment-error").waitFor();
    await page.getByLabel("Environment (optional)").fill("staging");
    await page.getByRole("button", { name: "Create token" }).click();
    const token = await page.getByLabel("New token").inputValue();
    const tokenRow = page.getByRole("row").filter({ has: page.getByRole("rowheader", { name: "staging-etl" }) });
    expect(await tokenRow.textContent()).toContain("staging");
    // The token resolves staging's values without naming them.
    const resolved = await new GraphQLClient(app.url, token).ok(`query($s: String!) { resolveConnection(name: "warehouse", workspace: $s) { host } }`, { s: workspace.slug });
    expect(resolved.resolveConnection.host).toBe("staging-db.internal");

    await page.getByRole("link", { name: "Import / Export" }).click();
    await page.getByLabel("Values of").selectOption("staging");
    await page.getByRole("button", { name: "Export", exact: true }).click();
    const exported = JSON.parse(await page.getByLabel("Exported connections").inputValue());
    expect(exported.warehouse.host).toBe("staging-db.internal");

    // The same file, edited for qa, imported as qa's values: warehouse gets a qa override.
    exported.warehouse.host = "qa-db.internal";
    await page.getByLabel("Environment (optional)").fill("qa");
    await page.getByLabel("Connections to import").fill(JSON.stringify(exported));
    await page.getByRole("button", { name: "Dry run" }).click();
    await page.getByText("Dry run, nothing written yet", { exact: false }).waitFor();
    await expectAccessible(page, "import into an environment");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByText("Imported:", { exact: false }).waitFor();
    const qa = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "warehouse") { host overrides { environment host } } } }`, {
      s: workspace.slug,
    });
    expect(qa.workspace.connection.host).toBe(target.host);
    expect(qa.workspace.connection.overrides).toContainEqual({ environment: "qa", host: "qa-db.internal" });
  });
});
