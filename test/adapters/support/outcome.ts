import { expect } from "vitest";
import type { TestOutcome } from "../../../src/adapters/types";

/** Asserts a failed outcome with `code` (and none of `secrets` in its message); returns the message for further checks. */
export function expectFailure(outcome: TestOutcome, code: string, ...secrets: string[]): string {
  expect(outcome).toMatchObject({ ok: false, code });
  for (const secret of secrets) expect(outcome.message).not.toContain(secret);
  return outcome.message;
}
