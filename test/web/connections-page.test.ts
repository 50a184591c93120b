/**
 * The Connections page end to end, in Debian's headless Chromium against a real server and the
 * run's PostgreSQL, as a person uses it: by labels and button names, keyboard where it matters.
 * Every page must make no request outside the server, log no console error (a CSP violation
 * is one) and have no serious or critical axe-core violation.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/net/free-port";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { addMember, createApiToken, createConnection, inviteMember, signUp, type SignedUp } from "../support/factories";
import { createPgTarget, type PgTarget } from "../support/pg-target";
import { checkAccessibility, chromiumAvailable, launchChromium, openPage, type RecordedPage, screenshot } from "./support/browser";
import { ensureWebBuild } from "./support/web-build";

const PASSWORD = "correct horse battery";
const DB_PASSWORD = "Db-pa55word-for-the-page";

let app: TestApp;
let browser: Browser;
let target: PgTarget;
let closedPort: number;
const opened: RecordedPage[] = [];
/** The person who signs up through the page, and their page. */
let owner: { email: string; page: Page; client: GraphQLClient; slug: string; workspaceId: string };

const hasChromium = chromiumAvailable();

async function open(): Promise<RecordedPage> {
  const recorded = await openPage(browser, app.url);
  recorded.page.setDefaultTimeout(10_000);
  opened.push(recorded);
  return recorded;
}

async function expectAccessible(page: Page, what: string): Promise<void> {
  const violations = await checkAccessibility(page);
  expect(violations, `${what}: ${JSON.stringify(violations, null, 2)}`).toEqual([]);
}

async function signInThroughPage(page: Page, email: string): Promise<void> {
  await page.goto("/");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
}

function row(page: Page, name: string) {
  return page.getByRole("row").filter({ has: page.getByRole("rowheader", { name }) });
}

describe.skipIf(!hasChromium)("the Connections page in a real browser", () => {
  beforeAll(async () => {
    ensureWebBuild();
    [app, browser, target, closedPort] = await Promise.all([startTestApp(), launchChromium(), createPgTarget(DB_PASSWORD), freePort()]);
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
  });

  it("signs a new person up, creates their workspace and shows its empty Connections page", async () => {
    const { page } = await open();
    await page.goto("/");
    await page.getByRole("heading", { name: "Sign in to Patchbay" }).waitFor();
    await expectAccessible(page, "sign-in page");
    await screenshot(page, "sign-in");

    const email = `ada-${Date.now()}@example.com`;
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();

    await page.getByRole("heading", { name: "New workspace" }).waitFor();
    await expectAccessible(page, "new workspace page");
    const slug = `analytics-${Date.now().toString(36)}`;
    await page.getByLabel("Slug").fill("Not A Slug");
    await page.getByLabel("Name").fill("Analytics");
    await page.getByRole("button", { name: "Create" }).click();
    // The server's BAD_USER_INPUT lands next to the field it names.
    await page.locator("#field-slug-error").waitFor();
    expect(await page.getByLabel("Slug").getAttribute("aria-invalid")).toBe("true");
    await page.getByLabel("Slug").fill(slug);
    await page.getByRole("button", { name: "Create" }).click();

    await page.getByRole("heading", { name: "Connections" }).waitFor();
    await page.getByText("No connections yet.").waitFor();
    expect(await page.getByLabel("Workspace", { exact: true }).inputValue()).toBe(slug);
    await expectAccessible(page, "empty connections page");

    const token = await page.evaluate(() => (globalThis as any).localStorage.getItem("patchbay.session") as string);
    const client = new GraphQLClient(app.url, token);
    const data = await client.ok(`query($s: String!) { workspace(slug: $s) { id myRole } }`, { s: slug });
    expect(data.workspace.myRole).toBe("OWNER");
    owner = { email, page, client, slug, workspaceId: data.workspace.id };
  });

  it("creates a postgres connection through the form: Test shows SUCCESS with the server version, Save lists it", async () => {
    const { page } = owner;
    await page.getByRole("link", { name: "New connection" }).click();
    await page.getByRole("heading", { name: "New connection" }).waitFor();
    // The form comes from connectionTypes: PostgreSQL's own fields, with its default port.
    expect(await page.getByLabel("Type", { exact: true }).inputValue()).toBe("postgres");
    expect(await page.getByLabel("Port").inputValue()).toBe("5432");
    expect(await page.getByLabel("Password", { exact: true }).getAttribute("type")).toBe("password");
    await page.getByLabel("Name", { exact: true }).fill("warehouse");
    await page.getByLabel("Host").fill(target.host);
    await page.getByLabel("Port").fill(String(target.port));
    await page.getByLabel("Database").fill(target.schema);
    await page.getByLabel("User").fill(target.login);
    await page.getByLabel("Password", { exact: true }).fill(DB_PASSWORD);
    await expectAccessible(page, "new connection form");

    await page.getByRole("button", { name: "Test" }).click();
    const outcome = page.getByTestId("test-outcome");
    await outcome.waitFor();
    expect(await outcome.textContent()).toContain("SUCCESS");
    expect(await outcome.locator(".server-version").textContent()).toMatch(/^PostgreSQL 1\d/);
    await screenshot(page, "new-connection");

    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("heading", { name: "Connections" }).waitFor();
    await page.getByText("Saved warehouse.").waitFor();
    const saved = row(page, "warehouse");
    expect(await saved.textContent()).toContain(`${target.host}:${target.port}`);
    expect(await saved.textContent()).toContain("PostgreSQL");

    const stored = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "warehouse") { login schema secretFields } } }`, {
      s: owner.slug,
    });
    expect(stored.workspace.connection).toEqual({ login: target.login, schema: target.schema, secretFields: ["password"] });
  });

  it("tests a saved connection from its row and shows the outcome in the table", async () => {
    const { page } = owner;
    await row(page, "warehouse").getByRole("button", { name: "Test warehouse" }).click();
    await page.getByTestId("connections-status").getByText("Tested warehouse: SUCCESS").waitFor();
    await row(page, "warehouse").getByText("SUCCESS").waitFor();
    await screenshot(page, "connections");
  });

  it("Edit: a closed port tests CONNECTION_REFUSED, a wrong password AUTH_FAILED, secrets are never shown", async () => {
    const { page } = owner;
    await row(page, "warehouse").getByRole("link", { name: "Edit warehouse" }).click();
    await page.getByRole("heading", { name: "Edit warehouse" }).waitFor();
    expect(await page.getByTestId("secret-status-password").textContent()).toBe("set");
    // No input holds the stored password, in any form.
    const values = await page.locator("input, textarea").evaluateAll((els) => els.map((el) => (el as { value: string }).value));
    expect(values).not.toContain(DB_PASSWORD);
    await expectAccessible(page, "edit form");

    await page.getByLabel("Port").fill(String(closedPort));
    await page.getByRole("button", { name: "Test" }).click();
    await page.getByTestId("test-outcome").getByText("CONNECTION_REFUSED").waitFor();
    await screenshot(page, "edit-connection");

    await page.getByLabel("Port").fill(String(target.port));
    await page.getByRole("button", { name: "Replace Password" }).click();
    await page.getByLabel("New password").fill("not-the-password");
    await page.getByRole("button", { name: "Test" }).click();
    await page.getByTestId("test-outcome").getByText("AUTH_FAILED").waitFor();
    expect(await page.getByTestId("test-outcome").textContent()).not.toContain("not-the-password");

    // Unsaved: the stored connection still works and still has version 1.
    await page.getByRole("link", { name: "Cancel" }).click();
    await page.getByRole("heading", { name: "Connections" }).waitFor();
    const stored = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "warehouse") { version port } } }`, { s: owner.slug });
    expect(stored.workspace.connection).toEqual({ version: 1, port: target.port });
  });

  it("puts the server's field errors next to their field, and offers a reload on a version conflict", async () => {
    const { page } = owner;
    await page.goto(`/#/w/${owner.slug}/connections/warehouse/edit`);
    await page.getByRole("heading", { name: "Edit warehouse" }).waitFor();
    await page.getByLabel("Name", { exact: true }).fill("bad name!");
    await page.getByRole("button", { name: "Save" }).click();
    const nameError = page.locator("#field-name-error");
    await nameError.waitFor();
    expect(await nameError.textContent()).toMatch(/name/i);
    expect(await page.getByLabel("Name", { exact: true }).getAttribute("aria-describedby")).toContain("field-name-error");

    await page.getByLabel("Name", { exact: true }).fill("warehouse");
    await page.getByLabel("Description").fill("Edited in the page");
    // Someone else saves meanwhile.
    const id = (await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "warehouse") { id } } }`, { s: owner.slug })).workspace
      .connection.id;
    await owner.client.ok(`mutation($id: ID!) { updateConnection(id: $id, patch: { description: "Edited elsewhere" }) { version } }`, { id });
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("alert").getByText("changed meanwhile", { exact: false }).waitFor();
    await page.getByRole("button", { name: "Reload" }).click();
    await page.waitForFunction(() => (globalThis as any).document.getElementById("field-description")?.value === "Edited elsewhere");
    await page.getByLabel("Description").fill("Edited in the page");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Saved warehouse.").waitFor();
    expect(await row(page, "warehouse").textContent()).toContain("Edited in the page");
  });

  it("retyped without its secret: the secret field says so on Save, and Test answers INVALID_CONFIG", async () => {
    const { page } = owner;
    // A connection without a password, retyped to s3, whose secret access key is required.
    await createConnection(owner.client, owner.workspaceId, { name: "retype_me", type: "generic", host: "files.example.com", port: null, schema: null, login: null, password: null });
    await page.goto(`/#/w/${owner.slug}/connections/retype_me/edit`);
    await page.getByRole("heading", { name: "Edit retype_me" }).waitFor();
    await page.getByLabel("Type", { exact: true }).selectOption("s3");
    await page.getByLabel("Access key ID").fill("AKIAIOSFODNN7EXAMPLE");
    expect(await page.getByTestId("secret-status-password").textContent()).toBe("not set");

    await page.getByRole("button", { name: "Test" }).click();
    await page.getByTestId("test-outcome").getByText("INVALID_CONFIG").waitFor();
    expect(await page.getByTestId("test-outcome").textContent()).toMatch(/password/i);

    await page.getByRole("button", { name: "Save" }).click();
    const error = page.locator("#field-password-error");
    await error.waitFor();
    // The server's BAD_USER_INPUT (the form itself asks for a kept secret only on New).
    expect(await error.textContent()).toBe("Secret access key is required.");
    await expectAccessible(page, "edit form with a secret field error");
    const stored = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "retype_me") { type version } } }`, { s: owner.slug });
    expect(stored.workspace.connection).toEqual({ type: "generic", version: 1 });
    await owner.client.ok(`mutation($id: ID!) { deleteConnection(id: $id, force: true) }`, {
      id: (await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "retype_me") { id } } }`, { s: owner.slug })).workspace.connection.id,
    });
    await page.getByRole("link", { name: "Cancel" }).click();
    await page.getByRole("heading", { name: "Connections" }).waitFor();
  });

  it("shows the connection's test history, usage and copyable snippets", async () => {
    const { page } = owner;
    const resolver = await createApiToken(owner.client, owner.workspaceId, ["RESOLVE"], "nightly-etl");
    await new GraphQLClient(app.url, resolver.token).ok(`{ resolveConnection(name: "warehouse") { name } }`);

    await page.getByRole("link", { name: "warehouse", exact: true }).click();
    await page.getByRole("heading", { name: "warehouse", exact: true }).waitFor();
    await page.getByRole("heading", { name: "Test history" }).waitFor();
    expect(await page.locator("table").first().textContent()).toContain("SUCCESS");
    await page.getByRole("cell", { name: "nightly-etl" }).waitFor();
    for (const title of ["Python client", "Airflow secrets backend", "JupySQL", "TypeScript pool"]) {
      await page.getByRole("heading", { name: title }).waitFor();
      await page.getByRole("button", { name: `Copy ${title} snippet` }).waitFor();
    }
    expect(await page.locator("pre").allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining(`%sql --section warehouse`), expect.stringContaining(`pgPool("warehouse")`)]),
    );
    await expectAccessible(page, "connection page");
    await screenshot(page, "connection");
  });

  it("Delete asks first, shows who used it recently, and deletes anyway", async () => {
    const { page } = owner;
    await page.getByRole("link", { name: "Connections", exact: true }).click();
    await row(page, "warehouse").getByRole("button", { name: "Delete warehouse" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete warehouse?" });
    await dialog.waitFor();
    await expectAccessible(page, "delete dialog");
    await dialog.getByRole("button", { name: "Delete", exact: true }).click();
    // The delete guard: resolved in the last 7 days by the token above.
    await dialog.getByRole("alert").getByText("nightly-etl", { exact: false }).first().waitFor();
    await screenshot(page, "delete-guard");
    await dialog.getByRole("button", { name: "Delete anyway" }).click();
    await page.getByTestId("connections-status").getByText("Deleted warehouse.").waitFor();
    await row(page, "warehouse").waitFor({ state: "detached" });
    const gone = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "warehouse") { id } } }`, { s: owner.slug });
    expect(gone.workspace.connection).toBeNull();
  });

  it("searches, filters by type and pages through a large workspace", async () => {
    const { page } = owner;
    for (let i = 0; i < 27; i++) await createConnection(owner.client, owner.workspaceId, { name: `db_${String(i).padStart(2, "0")}`, host: `db${i}.example.com` });
    await createConnection(owner.client, owner.workspaceId, { name: "mailer", type: "smtp", host: "smtp.example.com", port: 587, login: "bot", schema: null });
    await page.reload();
    await page.getByRole("heading", { name: "Connections" }).waitFor();
    await page.getByText("1–25 of 28").waitFor();
    await page.getByRole("button", { name: "Next page" }).click();
    await page.getByText("26–28 of 28").waitFor();
    await page.getByRole("button", { name: "Previous page" }).click();
    await page.getByText("1–25 of 28").waitFor();

    await page.getByLabel("Search connections").fill("db_1");
    await row(page, "db_00").waitFor({ state: "detached" });
    expect(await page.getByRole("rowheader").count()).toBe(10);
    await page.getByLabel("Search connections").fill("");
    await row(page, "db_00").waitFor();
    await page.getByLabel("Type", { exact: true }).selectOption("smtp");
    await row(page, "db_00").waitFor({ state: "detached" });
    expect(await page.getByRole("rowheader").count()).toBe(1);
    await page.getByLabel("Type", { exact: true }).selectOption("");
  });

  it("shows a VIEWER no control they cannot use", async () => {
    const viewer = await signUp(new GraphQLClient(app.url), "viewer");
    await addMember(owner.client, owner.workspaceId, viewer.email, "VIEWER");
    const { page } = await open();
    await signInThroughPage(page, viewer.email);
    await page.getByRole("heading", { name: "Connections" }).waitFor();
    await row(page, "db_00").waitFor();
    for (const name of ["New connection", "Edit db_00"]) expect(await page.getByRole("link", { name }).count(), name).toBe(0);
    for (const name of ["Test db_00", "Delete db_00"]) expect(await page.getByRole("button", { name }).count(), name).toBe(0);
    for (const name of ["API tokens", "Audit log"]) expect(await page.getByRole("link", { name }).count(), name).toBe(0);
    await expectAccessible(page, "connections page as a viewer");

    await page.getByRole("link", { name: "db_00" }).click();
    await page.getByRole("heading", { name: "db_00" }).waitFor();
    for (const name of ["Test", "Delete"]) expect(await page.getByRole("button", { name, exact: true }).count(), name).toBe(0);
    expect(await page.getByRole("link", { name: "Edit" }).count()).toBe(0);

    await page.getByRole("link", { name: "Import / Export" }).click();
    await page.getByRole("heading", { name: "Export", exact: true }).waitFor();
    expect(await page.getByRole("heading", { name: "Import", exact: true }).count()).toBe(0);
    expect(await page.getByLabel("Include secrets").count()).toBe(0);

    await page.getByRole("link", { name: "Members" }).click();
    await page.getByRole("heading", { name: "Members" }).waitFor();
    expect(await page.getByRole("button", { name: "Invite" }).count()).toBe(0);
    expect(await page.getByRole("heading", { name: "Invitations" }).count()).toBe(0);
    expect(await page.getByRole("combobox", { name: /^Role of/ }).count()).toBe(0);
  });

  it("shows a MEMBER the Test button but no editing", async () => {
    const member = await signUp(new GraphQLClient(app.url), "member");
    await addMember(owner.client, owner.workspaceId, member.email, "MEMBER");
    const { page } = await open();
    await signInThroughPage(page, member.email);
    await row(page, "db_00").getByRole("button", { name: "Test db_00" }).waitFor();
    expect(await page.getByRole("link", { name: "Edit db_00" }).count()).toBe(0);
    expect(await page.getByRole("link", { name: "New connection" }).count()).toBe(0);
  });

  it("creates an API token, shows it once, and revokes it", async () => {
    const { page } = owner;
    await page.getByRole("link", { name: "API tokens" }).click();
    await page.getByRole("heading", { name: "API tokens" }).waitFor();
    await page.getByLabel("Token name").fill("notebook");
    await page.getByLabel("RESOLVE").check();
    await page.getByRole("button", { name: "Create token" }).click();
    const shown = page.getByLabel("New token");
    await shown.waitFor();
    const token = await shown.inputValue();
    expect(token).toMatch(/^pbt_[A-Za-z0-9]+_[A-Za-z0-9]+$/);
    await page.getByRole("button", { name: "Copy token" }).waitFor();
    await page.getByText("it is shown only once", { exact: false }).waitFor();
    await expectAccessible(page, "API tokens page with a new token");
    await screenshot(page, "api-tokens");

    // It works, with exactly the scopes chosen.
    const scopes = await new GraphQLClient(app.url, token).ok(`{ viewer { apiToken { name scopes } } }`);
    expect(scopes.viewer.apiToken).toEqual({ name: "notebook", scopes: ["READ", "RESOLVE"] });

    // Shown once: after leaving the page it is nowhere in it.
    await page.getByRole("link", { name: "Connections", exact: true }).click();
    await page.getByRole("link", { name: "API tokens" }).click();
    await row(page, "notebook").waitFor();
    expect(await page.content()).not.toContain(token);

    await row(page, "notebook").getByRole("button", { name: "Revoke notebook" }).click();
    await page.getByRole("dialog", { name: "Revoke notebook?" }).getByRole("button", { name: "Revoke" }).click();
    await row(page, "notebook").getByText("revoked").waitFor();
    const refused = await new GraphQLClient(app.url, token).request(`{ viewer { apiToken { name } } }`);
    expect(refused.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("invites a member, who accepts through the link; revokes another invitation; signs out on the server", async () => {
    const { page } = owner;
    const newcomer = await signUp(new GraphQLClient(app.url), "newcomer");
    await page.getByRole("link", { name: "Members" }).click();
    await page.getByRole("heading", { name: "Members" }).waitFor();
    await page.getByLabel("Email").fill(newcomer.email);
    await page.getByLabel("Role", { exact: true }).selectOption("ADMIN");
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    const shown = page.getByLabel("Invitation link");
    await shown.waitFor();
    const link = await shown.inputValue();
    expect(link).toMatch(new RegExp(`^${app.url.replace(/[.]/g, "\\.")}/#/accept\\?token=pbi_[A-Za-z0-9]{32}_[A-Za-z0-9]{6}$`));
    const token = new URL(link).hash.split("token=")[1];
    await page.getByText("it is shown only once", { exact: false }).waitFor();
    await page.getByRole("button", { name: "Copy link" }).waitFor();
    await row(page, newcomer.email).getByText("pending").waitFor();
    await expectAccessible(page, "members page with a new invitation");
    await screenshot(page, "members");

    // The invited person opens the link, signs in, and accepts.
    const invited = (await open()).page;
    await invited.goto(link);
    await invited.getByText("You have an invitation.", { exact: false }).waitFor();
    await invited.getByLabel("Email").fill(newcomer.email);
    await invited.getByLabel("Password").fill(PASSWORD);
    await invited.getByRole("button", { name: "Sign in" }).click();
    await invited.getByRole("heading", { name: "Accept an invitation" }).waitFor();
    expect(await invited.getByLabel("Invitation link or token").inputValue()).toBe(token);
    await expectAccessible(invited, "accept an invitation");
    await screenshot(invited, "accept-invitation");
    await invited.getByRole("button", { name: "Accept invitation" }).click();
    await invited.getByRole("heading", { name: "Connections" }).waitFor();
    await invited.getByText("as ADMIN.", { exact: false }).waitFor();
    expect(await invited.getByLabel("Workspace", { exact: true }).inputValue()).toBe(owner.slug);
    // Used once: accepting again says so on the form.
    await invited.goto(link);
    await invited.getByRole("button", { name: "Accept invitation" }).click();
    await invited.locator("#field-token-error").getByText("already been used", { exact: false }).waitFor();

    // Shown once: back on the Members page the link is nowhere; the newcomer is a member.
    await page.getByRole("link", { name: "Connections", exact: true }).click();
    await page.getByRole("link", { name: "Members" }).click();
    await row(page, newcomer.email).getByText("accepted").waitFor();
    expect(await page.content()).not.toContain(token);
    await page.getByLabel(`Role of ${newcomer.email}`).selectOption("MEMBER");
    await page.getByText(`${newcomer.email} is now MEMBER.`).waitFor();

    // Revoke a pending invitation through its dialog; its token stops working.
    const changedMind = `changed-mind-${Date.now()}@example.com`;
    await page.getByLabel("Email").fill(changedMind);
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    const revokedToken = new URL(await page.getByLabel("Invitation link").inputValue()).hash.split("token=")[1];
    await row(page, changedMind).getByRole("button", { name: `Revoke the invitation for ${changedMind}` }).click();
    await page.getByRole("dialog", { name: `Revoke the invitation for ${changedMind}?` }).getByRole("button", { name: "Revoke" }).click();
    await row(page, changedMind).getByText("revoked").waitFor();
    const late = await signUp(new GraphQLClient(app.url), "late");
    const refused = await late.client.request(`mutation($t: String!) { acceptInvitation(token: $t) { role } }`, { t: revokedToken });
    expect(refused.errors?.[0]?.extensions?.code).toBeTruthy();

    // Sign out ends the session on the server, not only in this tab.
    const session = await invited.evaluate(() => (globalThis as any).localStorage.getItem("patchbay.session") as string);
    expect((await new GraphQLClient(app.url, session).ok(`{ viewer { user { email } } }`)).viewer.user.email).toBe(newcomer.email);
    await invited.getByRole("button", { name: "Sign out" }).click();
    await invited.getByRole("heading", { name: "Sign in to Patchbay" }).waitFor();
    expect((await new GraphQLClient(app.url, session).request(`{ viewer { user { email } } }`)).status).toBe(401);
  });

  it("creates an account from an invitation link: the new account joins the workspace at once", async () => {
    const email = `invited-${Date.now()}@example.com`;
    const { token } = await inviteMember(owner.client, owner.workspaceId, email, "VIEWER");
    const { page } = await open();
    await page.goto(`/#/accept?token=${token}`);
    await page.getByText("You have an invitation.", { exact: false }).waitFor();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Connections" }).waitFor();
    expect(await page.getByLabel("Workspace", { exact: true }).inputValue()).toBe(owner.slug);
    expect(await page.locator(".workspace-name .role").textContent()).toBe("VIEWER");
  });

  it("reads the audit log, and imports after a dry run", async () => {
    const { page } = owner;
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    await page.getByRole("cell", { name: "connection.delete" }).first().waitFor();
    await expectAccessible(page, "audit log");
    await screenshot(page, "audit-log", { fullPage: false });

    await page.getByRole("link", { name: "Import / Export" }).click();
    await page.getByRole("heading", { name: "Import", exact: true }).waitFor();
    const file = JSON.stringify({
      imported_pg: { conn_type: "postgres", host: "pg.example.com", port: 5432, login: "etl", password: "imp0rted-secret", schema: "dw" },
      db_00: { conn_type: "postgres", host: "elsewhere.example.com", login: "someone" },
      weird: { conn_type: "no_such_type", host: "x.example.com" },
    });
    await page.getByLabel("Connections to import").fill(file);
    await page.getByLabel("When a name exists").selectOption("SKIP");
    await page.getByRole("button", { name: "Dry run" }).click();
    await page.getByText("Nothing was written", { exact: false }).or(page.getByText("Dry run, nothing written yet", { exact: false })).first().waitFor();
    // A per-line table; an ERROR line keeps Apply disabled.
    expect(await row(page, "weird").textContent()).toContain("ERROR");
    expect(await page.getByRole("button", { name: "Apply" }).isDisabled()).toBe(true);
    await page.getByLabel("Import unknown types as generic").check();
    await page.getByRole("button", { name: "Dry run" }).click();
    await page.getByText("Dry run, nothing written yet", { exact: false }).waitFor();
    expect(await row(page, "imported_pg").textContent()).toContain("CREATED");
    expect(await row(page, "db_00").textContent()).toContain("SKIPPED");
    await expectAccessible(page, "import dry run");
    await screenshot(page, "import-export");
    const before = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "imported_pg") { id } } }`, { s: owner.slug });
    expect(before.workspace.connection).toBeNull();
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByText("Imported:", { exact: false }).waitFor();
    const after = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "imported_pg") { host secretFields } } }`, { s: owner.slug });
    expect(after.workspace.connection).toEqual({ host: "pg.example.com", secretFields: ["password"] });
  });

  it("is usable with the keyboard alone: sign in, switch pages, open and cancel the delete dialog", async () => {
    const { page } = await open();
    await page.goto("/");
    await page.getByRole("heading", { name: "Sign in to Patchbay" }).waitFor();
    await page.getByLabel("Email").focus();
    await page.keyboard.type(owner.email);
    await page.keyboard.press("Tab");
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Connections" }).waitFor();
    // Tab reaches a row's Delete button; Enter opens the dialog, Escape closes it.
    const target = row(page, "db_00").getByRole("button", { name: "Delete db_00" });
    for (let i = 0; i < 60 && !(await target.evaluate((el) => el === (globalThis as any).document.activeElement)); i++) await page.keyboard.press("Tab");
    expect(await target.evaluate((el) => el === (globalThis as any).document.activeElement)).toBe(true);
    await page.keyboard.press("Enter");
    await page.getByRole("dialog", { name: "Delete db_00?" }).waitFor();
    await page.keyboard.press("Escape");
    await page.getByRole("dialog").waitFor({ state: "hidden" });
    expect(await target.evaluate((el) => el === (globalThis as any).document.activeElement)).toBe(true);
    expect(await row(page, "db_00").count()).toBe(1);
  });

  it("serves the GraphQL explorer itself, and sends a browser's GET /graphql there", async () => {
    const { page } = await open();
    // Signed in on the page: the explorer uses that session.
    await signInThroughPage(page, owner.email);
    await page.getByRole("heading", { name: "Connections" }).waitFor();
    await page.goto("/graphql");
    expect(new URL(page.url()).pathname).toBe("/explorer");
    // 1.7 MB of editor: give it time on a loaded machine.
    await page.locator(".graphiql-container").waitFor({ timeout: 30_000 });
    // GraphiQL drops a result that arrives while it is still settling (schema load, editor
    // workers starting): on a loaded machine the first run can be lost, so run it again.
    const result = page.locator(".result-window").getByText(owner.slug).first();
    for (let attempt = 1; ; attempt++) {
      await page.getByRole("button", { name: /Execute query/ }).click();
      const shown = await result.waitFor({ timeout: 8_000 }).then(() => true, () => false);
      if (shown) break;
      expect(attempt, "the explorer shows the query's result").toBeLessThan(4);
    }
    await screenshot(page, "explorer");
  }, 90_000);
});
