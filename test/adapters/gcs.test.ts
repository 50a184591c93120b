/**
 * The gcs type against a local stand-in (support/fake-gcs.ts; no GCS emulator runs here): the
 * token endpoint verifies the JWT's signature with the key's public half, so a key the
 * account never had is refused as Google would refuse it; the storage side knows one bucket.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAdapter } from "../../src/adapters/registry";
import type { ConnectionSettings } from "../../src/adapters/types";
import { freePort } from "../../src/net/free-port";
import { type FakeGcs, startFakeGcs } from "./support/fake-gcs";
import { strictEgress, testContext } from "./support/context";
import { expectFailure } from "./support/outcome";

const gcs = getAdapter("gcs")!;
let fake: FakeGcs;

beforeAll(async () => {
  fake = await startFakeGcs();
});

afterAll(async () => {
  await fake?.stop();
});

function settings(extra: Record<string, unknown> = {}, keyFile = fake.keyFile): ConnectionSettings {
  return { host: null, port: null, schema: null, login: null, password: null, extra: { keyfile_dict: keyFile, api_endpoint: fake.api, bucket: fake.bucket, ...extra } };
}

const privateKeyOf = (keyFile: string) => (JSON.parse(keyFile) as { private_key: string }).private_key;

describe("the gcs test", () => {
  it("exchanges a signed JWT for a token and reads the bucket", async () => {
    const outcome = await gcs.test!(settings(), testContext());
    expect(outcome).toMatchObject({ ok: true, message: "Reading bucket reports-bucket as reader@patchbay-test.iam.gserviceaccount.com succeeded." });
    expect(fake.seen.good).toBeGreaterThan(0);
  });

  it("answers AUTH_FAILED for a key whose signature the token endpoint cannot verify, without the key", async () => {
    const badBefore = fake.seen.bad;
    const message = expectFailure(await gcs.test!(settings({}, fake.foreignKeyFile), testContext()), "AUTH_FAILED", privateKeyOf(fake.foreignKeyFile));
    expect(message).toMatch(/invalid_grant/);
    expect(message).not.toMatch(/Invalid JWT Signature/);
    expect(fake.seen.bad).toBe(badBefore + 1);
  });

  it("answers NOT_FOUND for a bucket that does not exist", async () => {
    expect(expectFailure(await gcs.test!(settings({ bucket: "no-such-bucket" }), testContext()), "NOT_FOUND")).toMatch(/no such bucket/);
  });

  it("answers CONNECTION_REFUSED when nothing listens at the key's token_uri", async () => {
    const port = await freePort();
    const keyFile = JSON.stringify({ ...JSON.parse(fake.keyFile), token_uri: `http://127.0.0.1:${port}/token` });
    expectFailure(await gcs.test!(settings({}, keyFile), testContext()), "CONNECTION_REFUSED", privateKeyOf(keyFile));
  });

  it("sends nothing to a token_uri or API endpoint the egress policy denies", async () => {
    const before = fake.seen.good + fake.seen.bad;
    expectFailure(await gcs.test!(settings(), testContext({ egress: strictEgress() })), "EGRESS_DENIED");
    const metadata = JSON.stringify({ ...JSON.parse(fake.keyFile), token_uri: "http://169.254.169.254/token" });
    expect(expectFailure(await gcs.test!(settings({}, metadata), testContext()), "EGRESS_DENIED")).toMatch(/metadata/);
    expect(fake.seen.good + fake.seen.bad).toBe(before);
  });

  it("refuses what is not a service account key when saving, without quoting it", () => {
    const problems = (keyFile: string) => gcs.validate!(settings({}, keyFile));
    expect(problems("{not json")).toEqual([{ field: "extra.keyfile_dict", message: "The key is not valid JSON; paste the whole key file." }]);
    expect(problems(JSON.stringify({ ...JSON.parse(fake.keyFile), type: "authorized_user" }))[0].message).toMatch(/service_account/);
    expect(problems(JSON.stringify({ ...JSON.parse(fake.keyFile), private_key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" }))[0].message).toMatch(
      /not a PEM private key/,
    );
    expect(problems(JSON.stringify({ ...JSON.parse(fake.keyFile), token_uri: "file:///etc/passwd" }))[0].field).toBe("extra.keyfile_dict");
    expect(gcs.validate!(settings({ api_endpoint: "https://u:p@storage.example.com" }))[0].field).toBe("extra.api_endpoint");
  });

  it("is Airflow's google_cloud_platform type", () => {
    expect(gcs.airflow?.connType).toBe("google_cloud_platform");
  });
});
