/**
 * Builds failed test outcomes. Every message passes through here, so none leaves an adapter
 * with a secret in it, with control characters a peer could have injected, or at a length
 * that would flood a UI or a log line.
 */
import type { TestErrorCode, TestOutcome } from "../types";
import { scrubSecrets } from "./scrub";

const MAX_MESSAGE_LENGTH = 500;

export function failed(code: TestErrorCode, message: string, secrets: Iterable<string>): TestOutcome {
  return { ok: false, code, message: cleanMessage(scrubSecrets(message, secrets)) };
}

export function cleanMessage(message: string): string {
  const printable = message.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ").trim();
  return printable.length > MAX_MESSAGE_LENGTH ? `${printable.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : printable;
}
