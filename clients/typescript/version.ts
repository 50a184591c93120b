/** The client's version, as its package.json says (scripts/build-clients.mjs and a test check they agree). */
export const VERSION = "0.2.0";
