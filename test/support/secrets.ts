/**
 * The secret values the suite uses, and a check that none of them reached a place it must
 * not: a response body, a log line, a stored test result.
 */
export const SECRET_MARKERS = [
  "s3cret-Pa55word!",
  "hunter2-extra-secret",
  "rotated-Pa55word#2",
];

/** Returns the places (by label) where any marker or extra secret appears. */
export function findSecrets(haystacks: Record<string, string[]>, extra: string[] = []): string[] {
  const needles = [...SECRET_MARKERS, ...extra];
  const found: string[] = [];
  for (const [label, texts] of Object.entries(haystacks)) {
    for (const text of texts) {
      for (const needle of needles) {
        if (text.includes(needle) || text.includes(encodeURIComponent(needle))) found.push(`${label}: ${needle}`);
      }
    }
  }
  return found;
}
