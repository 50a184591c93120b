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
