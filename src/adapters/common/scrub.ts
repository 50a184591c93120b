/**
 * Removes known secret values from text before it leaves an adapter. Drivers and servers
 * sometimes quote what they were sent, and a URL or an Authorization header carries a secret
 * percent-encoded or in base64, so those spellings are removed too.
 */

export const REDACTED = "[redacted]";

/**
 * Below this length a secret is removed only where it stands as a whole word: removing every
 * "p" of a one-letter password would shred the message and protect nothing.
 */
const SHORT_SECRET = 4;

/** The spellings of a secret worth looking for: as typed, URL-encoded, base64, JSON-escaped. */
export function secretSpellings(secret: string): string[] {
  const base64 = Buffer.from(secret).toString("base64");
  const spellings = new Set([
    secret,
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%20/g, "+"),
    encodeURI(secret),
    base64,
    base64.replace(/=+$/, ""),
    Buffer.from(secret).toString("base64url"),
    JSON.stringify(secret).slice(1, -1),
  ]);
  spellings.delete("");
  return [...spellings];
}

export function scrubSecrets(text: string, secrets: Iterable<string>): string {
  // Longest first, so a secret that contains another one is removed whole.
  const spellings = [...new Set([...secrets].flatMap(secretSpellings))].sort((a, b) => b.length - a.length);
  let scrubbed = text;
  for (const spelling of spellings) {
    scrubbed =
      spelling.length < SHORT_SECRET
        ? scrubbed.replace(new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(spelling)}(?![\\p{L}\\p{N}])`, "gu"), REDACTED)
        : scrubbed.split(spelling).join(REDACTED);
  }
  return scrubbed;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
