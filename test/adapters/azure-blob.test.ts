/**
 * The azure_blob type against Azurite (started here on 127.0.0.1), which checks Shared Key
 * and SAS signatures: listing containers, checking one, a wrong key, a missing container, a
 * SAS instead of the key, a forged SAS, and nothing listening.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAdapter } from "../../src/adapters/registry";
import type { ConnectionSettings } from "../../src/adapters/types";
import { freePort } from "../../src/net/free-port";
import { type AzuriteService, startAzurite } from "../servers/azurite";
import { testContext } from "./support/context";
import { expectFailure } from "./support/outcome";

const azure = getAdapter("azure_blob")!;
let azurite: AzuriteService;

beforeAll(async () => {
  azurite = await startAzurite();
  await azurite.createContainer("reports");
}, 60_000);

afterAll(async () => {
  await azurite?.stop();
});

function settings(extra: Record<string, unknown> = {}, key: string | null = azurite.key): ConnectionSettings {
  return { host: null, port: null, schema: null, login: azurite.account, password: key, extra: { endpoint: azurite.endpoint, ...extra } };
}

describe("the azure_blob test", () => {
  it("lists the account's containers with the shared key", async () => {
    expect(await azure.test!(settings(), testContext())).toMatchObject({ ok: true, message: "Listed the account's containers." });
  });

  it("checks the named container", async () => {
    expect(await azure.test!(settings({ container: "reports" }), testContext())).toMatchObject({
      ok: true,
      message: "Container reports exists and the credentials may read it.",
    });
  });

  it("answers AUTH_FAILED for a wrong shared key, without the key", async () => {
    const wrong = randomBytes(64).toString("base64");
    const message = expectFailure(await azure.test!(settings({}, wrong), testContext()), "AUTH_FAILED", wrong);
    expect(message).toMatch(/AuthenticationFailed|AuthorizationFailure/);
  });

  it("answers NOT_FOUND for a container that does not exist", async () => {
    expect(expectFailure(await azure.test!(settings({ container: "no-such-container" }), testContext()), "NOT_FOUND")).toMatch(/ContainerNotFound/);
  });

  it("uses a SAS token instead of the key, and refuses a forged one without repeating it", async () => {
    const sas = azurite.accountSas("rl");
    expect(await azure.test!(settings({ sas_token: sas, container: "reports" }, null), testContext())).toMatchObject({ ok: true });
    const forged = sas.replace(/sig=[^&]+/, `sig=${encodeURIComponent(randomBytes(32).toString("base64"))}`);
    const message = expectFailure(await azure.test!(settings({ sas_token: forged }, null), testContext()), "AUTH_FAILED", forged);
    expect(message).not.toContain("sig=");
  });

  it("answers CONNECTION_REFUSED when nothing listens at the endpoint", async () => {
    const port = await freePort();
    expectFailure(await azure.test!(settings({ endpoint: `http://127.0.0.1:${port}/${azurite.account}` }), testContext()), "CONNECTION_REFUSED", azurite.key);
  });

  it("answers SECRET_REQUIRED with neither key nor SAS, and refuses a bad account name when saving", async () => {
    expectFailure(await azure.test!(settings({}, null), testContext()), "SECRET_REQUIRED");
    expect(azure.validate!({ ...settings(), login: "Not_An_Account" }).map((p) => p.field)).toEqual(["login"]);
  });

  it("is Airflow's wasb type", () => {
    expect(azure.airflow?.connType).toBe("wasb");
  });
});
