/** The Patchbay client: `import { createPatchbayClient } from "patchbay/client"`. */
export { createPatchbayClient, type PatchbayClient } from "./client.js";
export type { ResolvedConnection } from "./connection.js";
export { PatchbayError, type PatchbayErrorCode } from "./errors.js";
export type { PatchbayClientOptions, PostgresDriver, UriDialect, UrlOptions } from "./options.js";
export { VERSION } from "./version.js";
export { mysqlPoolOptions, pgPoolConfig } from "./pools.js";
