/** A problem with the embedded PostgreSQL, told in one line that says what to do about it. */
export class EmbeddedPostgresError extends Error {
  override name = "EmbeddedPostgresError";
}

/** The usual ways out, for messages that end in "Fixes: …". */
export const OTHER_WAYS = "run Patchbay as a non-root user, or set DATABASE_URL to a PostgreSQL of your own";
