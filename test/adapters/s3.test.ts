/**
 * The s3 adapter against s3rver behind a proxy that checks SigV4 signatures like S3
 * (test/servers/s3.ts), and against servers that are not S3 at all.
 */
import { readFile } from "node:fs/promises";
import { createServer as createHttpsServer } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateSettings } from "../../src/adapters/registry";
import { operationUrl, s3Adapter, s3Target, type S3Target } from "../../src/adapters/s3";
import type { ConnectionSettings, TestOutcome } from "../../src/adapters/types";
import { createEgress } from "../../src/net/egress";
import { findProgram } from "../servers/availability";
import { startS3, type S3Service } from "../servers/s3";
import { selfSignedCertificate } from "./support/certificate";
import { testContext} from "./support/context";
import { bannerServer} from "./support/fake-servers";
import { expectFailure } from "./support/outcome";

let s3: S3Service;

beforeAll(async () => {
  s3 = await startS3();
});

afterAll(async () => {
  await s3?.stop();
});

function settings(extra: Record<string, unknown> = {}, overrides: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return {
    host: null,
    port: null,
    schema: null,
    login: s3.keys.accessKeyId,
    password: s3.keys.secretAccessKey,
    extra: { endpoint_url: s3.endpoint, region_name: s3.region, ...extra },
    ...overrides,
  };
}

function testConnection(s: ConnectionSettings, ctx = testContext()): Promise<TestOutcome> {
  return s3Adapter.test!(s, ctx);
}

function expectNoSecrets(message: string, ...secrets: string[]): void {
  for (const secret of secrets) {
    for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString("base64")]) {
      expect(message).not.toContain(form);
    }
  }
}

describe("s3 adapter against a signature-checking S3 server", () => {
  it("succeeds with the right key and an existing bucket (HeadBucket), reporting the Server header", async () => {
    const outcome = await testConnection(settings({ bucket: s3.bucket }));
    expect(outcome).toMatchObject({ ok: true, serverVersion: "S3rver/3.7 (Patchbay test proxy)" });
    expect(outcome.message).toContain(s3.bucket);
    const head = s3.seen.at(-1)!;
    expect(head).toMatchObject({ method: "HEAD", path: `/${s3.bucket}`, verdict: "forwarded", host: `127.0.0.1:${s3.port}` });
    expect(head.signedHeaders).toEqual(["host", "x-amz-content-sha256", "x-amz-date"]);
  });

  it("succeeds with the right key and no bucket (ListBuckets), counting the buckets", async () => {
    const outcome = await testConnection(settings());
    expect(outcome).toMatchObject({ ok: true });
    expect(outcome.message).toMatch(/can see 1 bucket\b/);
    expect(s3.seen.at(-1)).toMatchObject({ method: "GET", path: "/", verdict: "forwarded" });
  });

  it("reports AUTH_FAILED for a wrong secret, with neither secret in the message", async () => {
    const wrong = "wrong/Secret+Key=value0123456789abcdef";
    for (const extra of [{ bucket: s3.bucket }, {}]) {
      const message = expectFailure(await testConnection(settings(extra, { password: wrong })), "AUTH_FAILED");
      expect(message).toMatch(/secret access key does not match/);
      expect(message).toContain(s3.keys.accessKeyId);
      expectNoSecrets(message, wrong, s3.keys.secretAccessKey);
      expect(s3.seen.at(-1)!.verdict).toBe("SignatureDoesNotMatch");
    }
  });

  it("reports AUTH_FAILED for an access key id the server does not know", async () => {
    const outcome = await testConnection(settings({ bucket: s3.bucket }, { login: "AKIAUNKNOWNKEY000000" }));
    expect(expectFailure(outcome, "AUTH_FAILED")).toMatch(/AKIAUNKNOWNKEY000000 does not exist/);
  });

  it("tells a missing bucket (NOT_FOUND) from a wrong key", async () => {
    const message = expectFailure(await testConnection(settings({ bucket: "no-such-bucket-here" })), "NOT_FOUND");
    expect(message).toMatch(/no-such-bucket-here does not exist; the key was not refused/);
    // HEAD answers 404 without a body; the GET that follows says NoSuchBucket.
    expect(s3.seen.slice(-2).map((r) => `${r.method} ${r.path}`)).toEqual(["HEAD /no-such-bucket-here", "GET /no-such-bucket-here"]);

    const wrongKey = await testConnection(settings({ bucket: "no-such-bucket-here" }, { password: "another-wrong-secret" }));
    expectFailure(wrongKey, "AUTH_FAILED");
  });

  it("reports INVALID_CONFIG naming the region when the bucket lives in another one", async () => {
    const message = expectFailure(await testConnection(settings({ bucket: s3.farBucket.name })), "INVALID_CONFIG");
    expect(message).toContain(`in region ${s3.farBucket.region}, not ${s3.region}`);
  });

  it("reports INVALID_CONFIG naming the region when requests are signed for the wrong one", async () => {
    const message = expectFailure(await testConnection(settings({ region_name: "ap-south-1" })), "INVALID_CONFIG");
    expect(message).toContain(`region ${s3.region}, not ap-south-1`);
  });

  it("signs and sends the session token of temporary credentials", async () => {
    const { accessKeyId, secretAccessKey, sessionToken } = s3.temporaryKeys;
    const withToken = settings({ bucket: s3.bucket, aws_session_token: sessionToken }, { login: accessKeyId, password: secretAccessKey });
    expect(await testConnection(withToken)).toMatchObject({ ok: true });
    const seen = s3.seen.at(-1)!;
    expect(seen.headers["x-amz-security-token"]).toBe(sessionToken);
    expect(seen.signedHeaders).toContain("x-amz-security-token");

    const withoutToken = { ...withToken, extra: { ...withToken.extra, aws_session_token: null } };
    expectFailure(await testConnection(withoutToken), "AUTH_FAILED");
    const wrongToken = { ...withToken, extra: { ...withToken.extra, aws_session_token: "not-the-token" } };
    const message = expectFailure(await testConnection(wrongToken), "AUTH_FAILED");
    expect(message).toMatch(/session token/);
    expectNoSecrets(message, "not-the-token", secretAccessKey);
  });

  it("uses virtual-hosted addressing through the egress lookup, keeping the name in the signed Host header", async () => {
    const egress = createEgress({
      mode: "default",
      allow: [],
      deny: [],
      lookup: async (host) => (host.endsWith(".patchbay.test") ? [{ address: "127.0.0.1", family: 4 }] : []),
    });
    const endpoint = `http://s3.patchbay.test:${s3.port}`;
    const outcome = await testConnection(settings({ endpoint_url: endpoint, bucket: s3.bucket, force_path_style: false }), testContext({ egress }));
    expect(outcome).toMatchObject({ ok: true });
    expect(s3.seen.at(-1)).toMatchObject({ method: "HEAD", path: "/", host: `${s3.bucket}.s3.patchbay.test:${s3.port}`, verdict: "forwarded" });
  });

  it("never takes keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY", async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = s3.keys.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.keys.secretAccessKey;
    try {
      const keyless = settings({ bucket: s3.bucket }, { login: null, password: null });
      expect(validateSettings(s3Adapter, keyless).map((p) => p.field)).toEqual(["login", "password"]);
      const before = s3.seen.length;
      expectFailure(await testConnection(keyless), "INVALID_CONFIG");
      expectFailure(await testConnection({ ...keyless, login: s3.keys.accessKeyId }), "SECRET_REQUIRED");
      expect(s3.seen.length).toBe(before);
    } finally {
      for (const [name, value] of [["AWS_ACCESS_KEY_ID", saved.id], ["AWS_SECRET_ACCESS_KEY", saved.secret]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it("does not read the environment or load the AWS SDK's credential chain", async () => {
    const source = await readFile(new URL("../../src/adapters/s3.ts", import.meta.url), "utf8");
    expect(source).not.toMatch(/process\.env|@aws-sdk\/credential|fromEnv|fromInstanceMetadata|defaultProvider/);
  });
});

describe("s3 adapter against unreachable, denied or foreign endpoints", () => {
  it("reports PROTOCOL_ERROR for an HTTP server that is not an S3 API, without echoing it", async () => {
    const body = "<html>welcome banner-7f3a</html>";
    const server = await bannerServer(`HTTP/1.1 200 OK\r\nServer: banner-7f3a\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    try {
      const outcome = await testConnection(settings({ endpoint_url: `http://127.0.0.1:${server.port}` }));
      expect(expectFailure(outcome, "PROTOCOL_ERROR")).not.toMatch(/banner-7f3a|welcome/);
    } finally {
      await server.close();
    }
  });

  it("reports PROTOCOL_ERROR for an HTTP server whose errors are not S3 error documents", async () => {
    const server = await bannerServer("HTTP/1.1 400 Bad Request\r\nServer: banner-7f3a\r\nContent-Length: 0\r\n\r\n");
    try {
      const outcome = await testConnection(settings({ endpoint_url: `http://127.0.0.1:${server.port}`, bucket: s3.bucket }));
      expect(expectFailure(outcome, "PROTOCOL_ERROR")).toMatch(/without an S3 error document/);
      expect(server.accepted()).toBe(2);
    } finally {
      await server.close();
    }
  });

  it.skipIf(!findProgram("openssl"))("checks an https endpoint's certificate against its name, unless Verify is off", async () => {
    const certificate = await selfSignedCertificate();
    const hosts: string[] = [];
    const server = createHttpsServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
      hosts.push(req.headers.host ?? "");
      res.writeHead(200, { server: "TLS-S3" }).end("<ListAllMyBucketsResult><Buckets><Bucket><Name>a</Name></Bucket></Buckets></ListAllMyBucketsResult>");
    });
    server.on("tlsClientError", () => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const endpoint = `https://localhost:${(server.address() as { port: number }).port}`;
      expect(expectFailure(await testConnection(settings({ endpoint_url: endpoint })), "TLS_ERROR")).toMatch(/self-signed/);
      const outcome = await testConnection(settings({ endpoint_url: endpoint, verify: false }));
      expect(outcome).toMatchObject({ ok: true, serverVersion: "TLS-S3" });
      expect(hosts).toEqual([endpoint.slice("https://".length)]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await certificate.remove();
    }
  });

  it("does not echo the text of an unknown S3 error", async () => {
    const body = "<Error><Code>WeirdBanner7f3a</Code><Message>banner-7f3a</Message></Error>";
    const server = await bannerServer(`HTTP/1.1 400 Bad Request\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    try {
      const outcome = await testConnection(settings({ endpoint_url: `http://127.0.0.1:${server.port}` }));
      expect(expectFailure(outcome, "UNKNOWN")).not.toMatch(/7f3a/);
    } finally {
      await server.close();
    }
  });
});

describe("s3 settings", () => {
  function target(extra: Record<string, unknown>, overrides: Partial<ConnectionSettings> = {}): S3Target {
    const result = s3Target({ host: null, port: null, schema: null, login: "AKIAEXAMPLE", password: "secret", extra, ...overrides });
    if (Array.isArray(result)) throw new Error(JSON.stringify(result));
    return result;
  }

  function problemFields(extra: Record<string, unknown>, overrides: Partial<ConnectionSettings> = {}): string[] {
    const s = { host: null, port: null, schema: null, login: "AKIAEXAMPLE", password: "secret", extra, ...overrides };
    return validateSettings(s3Adapter, s).map((problem) => problem.field);
  }

  it("defaults to AWS in us-east-1, virtual-hosted, and ignores host, port and schema", () => {
    const t = target({ bucket: "my-bucket" }, { host: "ignored.example.com", port: 1, schema: "x" });
    expect(t).toMatchObject({ region: "us-east-1", pathStyle: false, verifyTls: true });
    expect(operationUrl(t, "HeadBucket").href).toBe("https://my-bucket.s3.us-east-1.amazonaws.com/");
    expect(operationUrl(t, "ListBuckets").href).toBe("https://s3.us-east-1.amazonaws.com/");
    expect(operationUrl(t, "ListObjects").href).toBe("https://my-bucket.s3.us-east-1.amazonaws.com/?list-type=2&max-keys=0");
  });

  it("puts a dotted bucket in the path over https, and knows the China partition", () => {
    expect(operationUrl(target({ bucket: "logs.example.com", region_name: "eu-west-1" }), "HeadBucket").href).toBe(
      "https://s3.eu-west-1.amazonaws.com/logs.example.com",
    );
    expect(operationUrl(target({ region_name: "cn-north-1" }), "ListBuckets").host).toBe("s3.cn-north-1.amazonaws.com.cn");
  });

  it("uses path style by default with an endpoint URL, keeping its port and path prefix", () => {
    const t = target({ endpoint_url: "https://minio.example.com:9000/s3/", bucket: "data" });
    expect(t.pathStyle).toBe(true);
    expect(operationUrl(t, "HeadBucket").href).toBe("https://minio.example.com:9000/s3/data");
    expect(operationUrl(t, "ListBuckets").href).toBe("https://minio.example.com:9000/s3/");
  });

  it.each([
    [{ endpoint_url: "ftp://minio.example.com" }, "extra.endpoint_url"],
    [{ endpoint_url: "https://user:pw@minio.example.com" }, "extra.endpoint_url"],
    [{ endpoint_url: "https://minio.example.com/?x=1" }, "extra.endpoint_url"],
    [{ endpoint_url: "minio.example.com" }, "extra.endpoint_url"],
    [{ endpoint_url: "https://minio example.com" }, "extra.endpoint_url"],
    [{ region_name: "EU West 1" }, "extra.region_name"],
    [{ bucket: "Bad_Bucket" }, "extra.bucket"],
    [{ bucket: "ab" }, "extra.bucket"],
    [{ endpoint_url: "http://10.0.0.5:9000", force_path_style: false }, "extra.force_path_style"],
    [{ force_path_style: "yes" }, "extra.force_path_style"],
    [{ aws_session_token: "line\nbreak" }, "extra.aws_session_token"],
  ])("refuses %j", (extra, field) => {
    expect(problemFields(extra)).toEqual([field]);
  });

  it("refuses an access key id that would break the Authorization header", () => {
    expect(problemFields({}, { login: "AKIA/EXAMPLE" })).toEqual(["login"]);
    expect(problemFields({}, { login: "AKIA EXAMPLE" })).toEqual(["login"]);
  });

  it("declares the secret access key and the session token secret, and requires both keys", () => {
    const byName = Object.fromEntries(s3Adapter.fields.map((field) => [field.name, field]));
    expect(byName.password).toMatchObject({ kind: "PASSWORD", secret: true, required: true });
    expect(byName["extra.aws_session_token"]).toMatchObject({ kind: "PASSWORD", secret: true });
    expect(byName.login).toMatchObject({ required: true });
    expect(byName.host).toBeUndefined();
    expect(byName.port).toBeUndefined();
    expect(byName.schema).toBeUndefined();
  });
});
