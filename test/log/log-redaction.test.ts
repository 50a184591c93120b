import { expect, it } from "vitest";
import { createLogger, redact } from "../../src/log";

it("masks credentials in every form an error message may carry them", () => {
  const lines: string[] = [];
  const logger = createLogger({ level: "debug", sink: (l) => lines.push(l) });
  logger.error("failed", {
    error: new Error("connect postgres://app:hunter2@db:5432/x failed; Authorization: Basic YXBwOmh1bnRlcjI="),
    url: "https://api.example.com/?user=a&password=hunter2&x=1",
    dsn: "host=db user=app password=hunter2 dbname=x",
    header: "Bearer pbt_abcdefghijklmnopqrstuvwxyz012345_abc123",
    nested: { password: "hunter2", note: "api_key=hunter2" },
  });
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toContain("hunter2");
  expect(lines[0]).not.toContain("YXBwOmh1bnRlcjI");
  expect(lines[0]).not.toContain("pbt_abcdef");
  expect(redact("nothing secret here")).toBe("nothing secret here");
});

it("masks credentials written as environment variables, JSON, YAML and Python in free text", () => {
  const cases: Array<[string, string]> = [
    ["PGPASSWORD=hunter2 psql -h db", "PGPASSWORD=*** psql -h db"],
    ["export PGPASSWORD='hunter2 with spaces'", "export PGPASSWORD='***'"],
    ['body was {"user": "app", "password": "hun\\"ter2"} end', 'body was {"user": "app", "password": "***"} end'],
    ['{"db_password":"hunter2","port":5432}', '{"db_password":"***","port":5432}'],
    ["{'password': 'hunter2'}", "{'password': '***'}"],
    ["password: hunter2\nhost: db", "password: ***\nhost: db"],
    ['password: "hunter2 x"', 'password: "***"'],
    ["aws_secret_access_key=wJalrXUtnFEMI/K7MDENG", "aws_secret_access_key=***"],
    ["AWS_SECRET_ACCESS_KEY = wJalrXUtnFEMI/K7MDENG", "AWS_SECRET_ACCESS_KEY = ***"],
    ["[default]\naws_secret_access_key = abc+def", "[default]\naws_secret_access_key = ***"],
  ];
  for (const [input, expected] of cases) expect(redact(input), input).toBe(expected);
  // Words that merely mention a credential stay readable.
  for (const text of ["password authentication failed for user \"app\"", "secretFields lists password", "the token expired"]) {
    expect(redact(text)).toBe(text);
  }
});

it("writes one JSON object a line with level, time and msg, and honours the level", () => {
  const lines: string[] = [];
  const logger = createLogger({ level: "info", sink: (l) => lines.push(l) });
  logger.debug("hidden");
  logger.info("shown", { count: 2 });
  expect(lines).toHaveLength(1);
  const entry = JSON.parse(lines[0]);
  expect(entry).toMatchObject({ level: "info", msg: "shown", count: 2 });
  expect(new Date(entry.time).toISOString()).toBe(entry.time);
  expect(logger.enabled?.("debug")).toBe(false);
});
