/**
 * A stand-in for Google's token endpoint and the Cloud Storage JSON API, on 127.0.0.1 (no GCS
 * emulator runs here). The token endpoint does what Google's does with a service account's
 * JWT: verifies its RS256 signature with the public half of the key it issued (jose), checks
 * the issuer, audience (its own URL), expiry and scope, and answers an access token or
 * `invalid_grant`. The storage side answers bucket metadata for known buckets, 404 for others,
 * and 401 to anything but a token it issued. A real service account key is generated per run.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { jwtVerify } from "jose";

export interface FakeGcs {
  tokenUri: string;
  api: string;
  /** The service account's JSON key file. */
  keyFile: string;
  /** A key for the same account that the server never issued. */
  foreignKeyFile: string;
  bucket: string;
  /** How many assertions it verified (good) and refused (bad). */
  seen: { good: number; bad: number };
  stop(): Promise<void>;
}

function keyFileOf(privateKey: KeyObject, tokenUri: string, email: string): string {
  return JSON.stringify({
    type: "service_account",
    project_id: "patchbay-test",
    private_key_id: randomBytes(20).toString("hex"),
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
    client_email: email,
    client_id: "1234567890",
    token_uri: tokenUri,
  });
}

export async function startFakeGcs(): Promise<FakeGcs> {
  const issued = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const foreign = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const email = "reader@patchbay-test.iam.gserviceaccount.com";
  const tokens = new Set<string>();
  const seen = { good: 0, bad: 0 };
  const bucket = "reports-bucket";
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      const json = (status: number, body: unknown) => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(body));
      };
      const url = new URL(request.url ?? "/", tokenUri);
      if (request.method === "POST" && url.pathname === "/token") {
        const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
        if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") return json(400, { error: "unsupported_grant_type" });
        try {
          const { payload } = await jwtVerify(form.get("assertion") ?? "", issued.publicKey, { issuer: email, audience: tokenUri, algorithms: ["RS256"] });
          if (typeof payload.scope !== "string" || !payload.scope.includes("devstorage")) return json(400, { error: "invalid_scope" });
        } catch {
          seen.bad++;
          return json(400, { error: "invalid_grant", error_description: "Invalid JWT Signature." });
        }
        seen.good++;
        const token = `ya29.${randomBytes(24).toString("hex")}`;
        tokens.add(token);
        return json(200, { access_token: token, expires_in: 3599, token_type: "Bearer" });
      }
      if (request.method === "GET" && url.pathname.startsWith("/storage/v1/b/")) {
        const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
        if (!token || !tokens.has(token)) return json(401, { error: { code: 401, message: "Invalid Credentials" } });
        const name = decodeURIComponent(url.pathname.slice("/storage/v1/b/".length));
        if (name !== bucket) return json(404, { error: { code: 404, message: "The specified bucket does not exist." } });
        return json(200, { name: bucket, location: "EU" });
      }
      json(404, { error: "not found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tokenUri = `${base}/token`;
  return {
    tokenUri,
    api: base,
    keyFile: keyFileOf(issued.privateKey, tokenUri, email),
    foreignKeyFile: keyFileOf(foreign.privateKey, tokenUri, email),
    bucket,
    seen,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
