/** The CLI's version, as its package.json says (scripts/build-clients.mjs checks they agree). */
export const VERSION = "0.2.0";
