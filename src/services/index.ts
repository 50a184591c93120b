/** The domain services one process runs, built once by the composition root (src/app.ts). */
import type { Db } from "../db/prisma";
import type { ApiTokenService } from "./api-tokens";
import type { ConnectionTestService } from "./connection-tests";
import type { ConnectionService } from "./connections";
import type { ConnectionSync } from "./connection-sync";
import type { ConnectionTransfer } from "./connection-transfer";
import type { IdentityService } from "./identity";
import type { ResolutionService } from "./resolution";
import type { WorkspaceService } from "./workspaces";

export interface Services {
  db: Db;
  identity: IdentityService;
  workspaces: WorkspaceService;
  connections: ConnectionService;
  connectionTests: ConnectionTestService;
  apiTokens: ApiTokenService;
  resolution: ResolutionService;
  sync: ConnectionSync;
  transfer: ConnectionTransfer;
}
