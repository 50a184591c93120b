/** The Patchbay client: `import { createPatchbayClient } from "patchbay/client"`. */
export { createPatchbayClient, type PatchbayClient } from "./client";
export type { ResolvedConnection } from "./connection";
export { PatchbayError, type PatchbayErrorCode } from "./errors";
export type { PatchbayClientOptions } from "./options";
export { mysqlPoolOptions, pgPoolConfig } from "./pools";
