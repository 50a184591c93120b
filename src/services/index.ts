/**
 * The domain services one process runs, built once by the composition root (src/app.ts). No
 * database handle: resolvers reach data only through the services, which check the policy.
 */
import type { ApiTokenService } from "./api-tokens";
import type { ConnectionTestService } from "./connections/testing";
import type { ConnectionService } from "./connections/service";
import type { ConnectionSync } from "./connections/sync";
import type { ConnectionTransfer } from "./connections/transfer";
import type { StagedImports } from "./connections/staged-import";
import type { EnvironmentService } from "./connections/environments";
import type { OverrideStore } from "./connections/overrides";
import type { BundleService } from "./connections/bundles";
import type { IdentityService } from "./identity";
import type { InvitationService } from "./invitations";
import type { ResolutionService } from "./connections/resolution";
import type { WorkspaceKeyService } from "./workspace-keys";
import type { WorkspaceService } from "./workspaces";
import type { TestSchedules } from "./health/schedules";
import type { Webhooks } from "./health/webhooks";
import type { WebhookDelivery } from "./health/webhook-delivery";

export interface Services {
  identity: IdentityService;
  workspaces: WorkspaceService;
  invitations: InvitationService;
  workspaceKeys: WorkspaceKeyService;
  connections: ConnectionService;
  connectionTests: ConnectionTestService;
  apiTokens: ApiTokenService;
  resolution: ResolutionService;
  sync: ConnectionSync;
  transfer: ConnectionTransfer;
  stagedImports: StagedImports;
  testSchedules: TestSchedules;
  webhooks: Webhooks;
  webhookDelivery: WebhookDelivery;
  environments: EnvironmentService;
  overrides: OverrideStore;
  bundles: BundleService;
}
