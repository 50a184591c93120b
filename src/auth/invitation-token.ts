/**
 * Invitation tokens: `pbi_<body>_<checksum>`, built like API tokens (api-token-format.ts) with
 * their own prefix, so secret scanners and people tell them apart. Only an HMAC keyed with
 * the "invitation-hash" subkey of the master key is stored.
 */
import { createHmac } from "node:crypto";
import { checksum, randomBase62 } from "./api-token-format";

export const INVITATION_TOKEN_PREFIX = "pbi_";
const SHAPE = /^pbi_([0-9A-Za-z]{32})_([0-9A-Za-z]{6})$/;

export function generateInvitationToken(): string {
  const head = `${INVITATION_TOKEN_PREFIX}${randomBase62(32)}`;
  return `${head}_${checksum(head)}`;
}

/** Shape and checksum only; says nothing about whether the invitation exists or is live. */
export function isWellFormedInvitationToken(candidate: string): boolean {
  const m = typeof candidate === "string" ? SHAPE.exec(candidate) : null;
  return m !== null && checksum(`${INVITATION_TOKEN_PREFIX}${m[1]}`) === m[2];
}

/** HMAC-SHA256 (hex) of the whole token; hashKey = deriveSubkey(master, "invitation-hash"). */
export function hashInvitationToken(hashKey: Buffer, token: string): string {
  return createHmac("sha256", hashKey).update(token, "utf8").digest("hex");
}
