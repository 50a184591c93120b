/**
 * The registry: which types exist, what their forms look like, and the validation every
 * type shares (field specs, the host rule) before the type's own.
 */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  getAdapter,
  isSecretField,
  listAdapters,
  secretExtraKeys,
  validateSettings,
  type AdapterId,
} from "../../src/adapters/registry";
import type { CommonField, ConnectionAdapter, ConnectionSettings, FieldProblem } from "../../src/adapters/types";

function settings(overrides: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return { host: "db.example.com", port: 5432, schema: "app", login: "app", password: "secret", extra: {}, ...overrides };
}

const postgres = getAdapter("postgres")!;
const mysql = getAdapter("mysql")!;

function problems(adapter: ConnectionAdapter, s: ConnectionSettings): FieldProblem[] {
  return validateSettings(adapter, s);
}

function fieldsWithProblems(adapter: ConnectionAdapter, s: ConnectionSettings): string[] {
  return problems(adapter, s).map((problem) => problem.field);
}

const COMMON_FIELDS: CommonField[] = ["host", "port", "schema", "login", "password"];
const none = { host: null, port: null, schema: null, login: null, password: null, extra: {} } satisfies ConnectionSettings;

/**
 * Valid settings for each registered type that fill every field its form declares, and only
 * those. Typed by AdapterId: registering a type without adding its fixture here does not compile.
 */
const complete: Record<AdapterId, ConnectionSettings> = {
  postgres: { host: "db.example.com", port: 5432, schema: "app", login: "app", password: "secret", extra: { sslmode: "require" } },
  mysql: { host: "db.example.com", port: 3306, schema: "app", login: "app", password: "secret", extra: { ssl_mode: "VERIFY_IDENTITY" } },
  http: {
    host: "api.example.com",
    port: 8443,
    schema: "https",
    login: "app",
    password: "secret",
    extra: {
      base_path: "/v1",
      auth_type: "basic",
      bearer_token: "token",
      header_name: "X-API-Key",
      header_value: "key",
      headers: { Accept: "application/json" },
      test_path: "/health",
      expected_status: "2xx,304",
      verify_tls: true,
    },
  },
  package_index: {
    host: "pypi.example.com",
    port: 443,
    schema: "https",
    login: "app",
    password: "secret",
    extra: { path: "/repository/pypi/simple/", verify_tls: true },
  },
  mssql: {
    host: "sql.example.com",
    port: 1433,
    schema: "app",
    login: "app",
    password: "secret",
    extra: { encrypt: "strict", trust_server_certificate: false },
  },
  mongodb: {
    host: "mongo.example.com",
    port: 27017,
    schema: "app",
    login: "app",
    password: "secret",
    extra: { auth_source: "admin", tls: true, allow_insecure: false, replica_set: "rs0", direct_connection: true },
  },
  s3: {
    ...none,
    login: "AKIAIOSFODNN7EXAMPLE",
    password: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    extra: {
      region_name: "eu-west-1",
      endpoint_url: "https://minio.example.com:9000",
      aws_session_token: "session-token",
      bucket: "my-bucket",
      verify: true,
      force_path_style: true,
    },
  },
  smtp: { ...none, host: "smtp.example.com", port: 587, login: "mailer@example.com", password: "secret", extra: { tls_mode: "starttls", tls_verify: true } },
  imap: {
    ...none,
    host: "imap.example.com",
    port: 993,
    login: "someone@example.com",
    password: "secret",
    extra: { tls_mode: "tls", tls_verify: true, mailbox: "INBOX" },
  },
  sqlite: { ...none, host: "analytics/events.db" },
  redis: { ...none, host: "redis.example.com", port: 6379, login: "default", password: "secret", extra: { db: 0, tls: true, tls_verify: true } },
  generic: { host: "service.example.com", port: 9000, schema: "anything", login: "app", password: "secret", extra: {} },
  secret: { ...none, password: "sk_live_value" },
  oauth2: {
    ...none,
    login: "reports",
    password: "client-secret",
    extra: {
      token_url: "https://auth.example.com/oauth2/token",
      grant_type: "refresh_token",
      refresh_token: "refresh-me",
      scopes: "read:reports offline_access",
      client_auth: "post",
      verify_tls: true,
    },
  },
  azure_blob: {
    ...none,
    login: "reportsstore",
    password: Buffer.from("a shared key of some length").toString("base64"),
    extra: { sas_token: "sv=2021-12-02&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&sig=abc%3D", endpoint: "https://reportsstore.blob.core.windows.net", container: "reports" },
  },
  gcs: {
    ...none,
    extra: {
      keyfile_dict: JSON.stringify({
        type: "service_account",
        client_email: "reader@example.iam.gserviceaccount.com",
        private_key: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }),
      }),
      project: "reports-project",
      bucket: "reports-bucket",
      api_endpoint: "https://storage.googleapis.com",
    },
  },
};

/** Fields a complete fixture leaves empty because they exclude another one it fills. */
const exclusive: Partial<Record<AdapterId, string[]>> = {
  // Either a port or an instance name (whose port the SQL Server Browser gives), not both.
  mssql: ["extra.instance_name"],
};

/** The settings with every field the form does not mark required left empty: only defaults apply. */
function onlyRequired(adapter: ConnectionAdapter, full: ConnectionSettings): ConnectionSettings {
  const required = new Set(adapter.fields.filter((field) => field.required).map((field) => field.name as string));
  const result: ConnectionSettings = { ...full, extra: {} };
  for (const name of COMMON_FIELDS) if (!required.has(name)) (result as unknown as Record<string, unknown>)[name] = null;
  for (const [key, value] of Object.entries(full.extra)) if (required.has(`extra.${key}`)) result.extra[key] = value;
  return result;
}

function isFilled(value: unknown): boolean {
  return value !== null && value !== undefined && value !== "";
}

describe("the registry", () => {
  it("knows postgres and mysql by id, and nothing by an unknown or inherited name", () => {
    expect(listAdapters().map((adapter) => adapter.id)).toEqual(expect.arrayContaining(["postgres", "mysql"]));
    expect(postgres).toMatchObject({ id: "postgres", label: "PostgreSQL", defaultPort: 5432 });
    expect(mysql).toMatchObject({ id: "mysql", label: "MySQL / MariaDB", defaultPort: 3306 });
    expect(getAdapter("oracle")).toBeUndefined();
    expect(getAdapter("toString")).toBeUndefined();
    expect(getAdapter("__proto__")).toBeUndefined();
  });

  it("lists exactly the types this file has fixtures for, each under its own id", () => {
    expect(listAdapters().map((adapter) => adapter.id).sort()).toEqual(Object.keys(complete).sort());
    for (const id of Object.keys(complete)) expect(getAdapter(id)?.id).toBe(id);
  });

  it("has a secret PASSWORD field in every type but sqlite, whose file path is all it needs, and gcs, whose secret is a key file", () => {
    const withoutPassword = listAdapters()
      .filter((adapter) => !adapter.fields.some((field) => field.name === "password"))
      .map((adapter) => adapter.id);
    expect(withoutPassword).toEqual(["sqlite", "gcs"]);
  });

  it("can test every type but generic, which says nothing about what a working connection is, and secret, which has nothing to connect to", () => {
    const untestable = listAdapters()
      .filter((adapter) => adapter.test === undefined)
      .map((adapter) => adapter.id);
    expect(untestable).toEqual(["generic", "secret"]);
    for (const adapter of listAdapters().filter((a) => !untestable.includes(a.id))) expect(typeof adapter.test).toBe("function");
  });

  it("normalizes only http and package_index, and leaves settings already in their fields as they are", () => {
    const normalizing = listAdapters().filter((adapter) => adapter.normalize !== undefined);
    expect(normalizing.map((adapter) => adapter.id)).toEqual(["http", "package_index"]);
    for (const adapter of normalizing) {
      const fixture = complete[adapter.id as AdapterId];
      expect(adapter.normalize!(fixture)).toEqual(fixture);
      const minimal = onlyRequired(adapter, fixture);
      expect(adapter.normalize!(minimal)).toEqual(minimal);
    }
  });

  describe.each(listAdapters().map((adapter) => [adapter.id, adapter] as const))("the %s form", (id, adapter) => {
    const fixture = complete[id as AdapterId];

    it("has unique field names and labels, each a common field or extra.<key>", () => {
      const names = adapter.fields.map((field) => field.name);
      const labels = adapter.fields.map((field) => field.label);
      expect(new Set(names).size).toBe(names.length);
      expect(new Set(labels).size).toBe(labels.length);
      for (const name of names) expect(name).toMatch(/^(host|port|schema|login|password|extra\.[A-Za-z0-9_]+)$/);
      for (const label of labels) expect(label.trim()).not.toBe("");
    });

    it("marks a password field secret when it has one, and keeps the other common fields plain", () => {
      const password = adapter.fields.find((field) => field.name === "password");
      if (password) expect(password).toMatchObject({ kind: "PASSWORD", secret: true });
      for (const name of ["host", "port", "schema", "login"]) expect(isSecretField(adapter, name)).toBe(false);
      // Whatever the form declares, a password is never stored in the clear.
      expect(isSecretField(adapter, "password")).toBe(true);
      for (const field of adapter.fields.filter((f) => f.kind === "PASSWORD")) expect(field.secret).toBe(true);
    });

    it("defaults the port to the type's default port, and its SELECT defaults are among the options", () => {
      expect(adapter.fields.find((field) => field.name === "port")?.default).toBe(adapter.defaultPort);
      for (const field of adapter.fields.filter((f) => f.kind === "SELECT")) {
        expect(field.options?.length).toBeGreaterThan(0);
        expect(field.options).toContain(field.default);
      }
    });

    it("has a fixture that fills every declared field and nothing else", () => {
      const declared = new Set(adapter.fields.map((field) => field.name as string));
      const leftOut = exclusive[id as AdapterId] ?? [];
      for (const name of leftOut) expect(declared, `${id} declares ${name}`).toContain(name);
      for (const name of [...declared].filter((n) => !leftOut.includes(n))) {
        const value = name.startsWith("extra.") ? fixture.extra[name.slice("extra.".length)] : fixture[name as CommonField];
        expect(isFilled(value), `${id} fixture fills ${name}`).toBe(true);
      }
      for (const name of COMMON_FIELDS) if (!declared.has(name)) expect(fixture[name], `${id} fixture leaves ${name} empty`).toBeNull();
      for (const key of Object.keys(fixture.extra)) expect(declared, `${id} declares extra.${key}`).toContain(`extra.${key}`);
    });

    it("accepts complete settings and settings that rely on the defaults", () => {
      expect(problems(adapter, fixture)).toEqual([]);
      expect(problems(adapter, onlyRequired(adapter, fixture))).toEqual([]);
    });
  });
});

describe("secret fields", () => {
  const withSecretExtra: ConnectionAdapter = {
    id: "example",
    label: "Example",
    summary: "nothing",
    fields: [
      { name: "host", label: "Host", kind: "STRING" },
      { name: "extra.token", label: "Token", kind: "PASSWORD", secret: true },
      { name: "extra.region", label: "Region", kind: "STRING" },
    ],
  };

  it("lists the extra keys whose spec is secret, without the prefix", () => {
    expect(secretExtraKeys(withSecretExtra)).toEqual(["token"]);
    expect(secretExtraKeys(postgres)).toEqual([]);
    expect(secretExtraKeys(mysql)).toEqual([]);
  });

  it("treats password as secret even for a type that does not declare it", () => {
    expect(isSecretField(withSecretExtra, "password")).toBe(true);
    expect(isSecretField(withSecretExtra, "extra.token")).toBe(true);
    expect(isSecretField(withSecretExtra, "extra.region")).toBe(false);
    expect(isSecretField(withSecretExtra, "extra.unknown")).toBe(false);
  });
});

describe("validateSettings", () => {
  it.each([null, "", "   "])("requires a host (%j)", (host) => {
    expect(problems(postgres, settings({ host }))).toEqual([{ field: "host", message: "Host is required." }]);
  });

  it("takes a login as optional, as libpq and the mysql client do", () => {
    expect(fieldsWithProblems(mysql, settings({ login: null }))).toEqual([]);
    expect(fieldsWithProblems(postgres, settings({ login: null }))).toEqual([]);
  });

  it.each([0, 70_000, -1, 5432.5, "abc", "5432"])("refuses port %j", (port) => {
    expect(fieldsWithProblems(postgres, settings({ port: port as number }))).toEqual(["port"]);
  });

  it.each([1, 65_535])("accepts port %j", (port) => {
    expect(problems(postgres, settings({ port }))).toEqual([]);
  });

  it("refuses a Unix socket path as host, saying why", () => {
    const [problem, ...rest] = problems(postgres, settings({ host: "/var/run/postgresql" }));
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ field: "host", message: expect.stringMatching(/Unix socket/) });
  });

  it.each([
    ["db server", /whitespace|spaces/],
    ["db\tserver", /whitespace|spaces/],
    ["postgres://app:secret@db/app", /URL/],
    ["app@db.example.com", /Login/],
    ["db.example.com/app", /'\/'/],
    ["db.example.com?sslmode=disable", /'\?'/],
    ["db.example.com#x", /'#'/],
    ["db.example.com:5432", /Port field/],
    ["[db.example.com]", /IPv6/],
    ["[::1", /IPv6/],
    ["-db.example.com", /valid hostname/],
    ["db..example.com", /valid hostname/],
    [`${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(70)}`, /253|valid hostname/],
    ["a".repeat(254), /253/],
  ])("refuses host %j", (host, reason) => {
    const found = problems(postgres, settings({ host }));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ field: "host", message: expect.stringMatching(reason) });
  });

  it.each(["localhost", "db.example.com", "db.example.com.", "my_db", "10.0.0.7", "::1", "[::1]", "[2001:db8::1]", "xn--bcher-kva.example"])(
    "accepts host %j",
    (host) => {
      expect(problems(postgres, settings({ host }))).toEqual([]);
    },
  );

  it("refuses a SELECT value that is not among the options, naming extra.<key>", () => {
    expect(problems(postgres, settings({ extra: { sslmode: "sometimes" } }))).toEqual([
      { field: "extra.sslmode", message: "SSL mode must be one of: disable, allow, prefer, require, verify-ca, verify-full." },
    ]);
    for (const sslmode of ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]) {
      expect(problems(postgres, settings({ extra: { sslmode } }))).toEqual([]);
    }
    for (const ssl_mode of ["DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"]) {
      expect(problems(mysql, settings({ extra: { ssl_mode } }))).toEqual([]);
    }
    expect(fieldsWithProblems(mysql, settings({ extra: { ssl_mode: "required" } }))).toEqual(["extra.ssl_mode"]);
    expect(problems(mysql, settings({ extra: { ssl_mode: "VERIFY_IDENTITY" } }))).toEqual([]);
  });

  it("reports every generic problem at once", () => {
    const found = fieldsWithProblems(postgres, settings({ host: "/tmp", port: 0, login: "", extra: { sslmode: 1 } }));
    expect(found).toEqual(["host", "port", "extra.sslmode"]);
  });

  describe("for extra fields of every kind", () => {
    const calls: ConnectionSettings[] = [];
    const example: ConnectionAdapter = {
      id: "example",
      label: "Example",
      summary: "nothing",
      fields: [
        { name: "host", label: "Host", kind: "STRING", required: true },
        { name: "extra.region", label: "Region", kind: "STRING", required: true },
        { name: "extra.retries", label: "Retries", kind: "INTEGER" },
        { name: "extra.verbose", label: "Verbose", kind: "BOOLEAN" },
        { name: "extra.mode", label: "Mode", kind: "SELECT", options: ["fast", "safe"] },
        { name: "extra.options", label: "Options", kind: "JSON" },
      ],
      validate(s) {
        calls.push(s);
        return s.extra.mode === "fast" && s.extra.verbose ? [{ field: "extra.verbose", message: "Not in fast mode." }] : [];
      },
    };
    const extra = (values: Record<string, unknown>) => settings({ extra: { region: "eu", ...values } });

    it("checks each value against its kind", () => {
      expect(problems(example, extra({ retries: 3, verbose: true, mode: "safe", options: { a: [1] } }))).toEqual([]);
      expect(fieldsWithProblems(example, extra({ retries: "3" }))).toEqual(["extra.retries"]);
      expect(fieldsWithProblems(example, extra({ retries: 1.5 }))).toEqual(["extra.retries"]);
      expect(fieldsWithProblems(example, extra({ verbose: "true" }))).toEqual(["extra.verbose"]);
      expect(fieldsWithProblems(example, extra({ mode: "slow" }))).toEqual(["extra.mode"]);
      expect(fieldsWithProblems(example, settings({ extra: {} }))).toEqual(["extra.region"]);
      expect(fieldsWithProblems(example, extra({ region: 7 }))).toEqual(["extra.region"]);
    });

    it("runs the type's own validate only once the generic checks pass", () => {
      calls.length = 0;
      expect(problems(example, extra({ mode: "fast", verbose: true }))).toEqual([
        { field: "extra.verbose", message: "Not in fast mode." },
      ]);
      expect(calls).toHaveLength(1);
      expect(fieldsWithProblems(example, extra({ mode: "slow", verbose: true }))).toEqual(["extra.mode"]);
      expect(calls).toHaveLength(1);
    });
  });
});
