import { ApiTokenResolver } from "./api-token.resolver";
import { AuthResolver } from "./auth.resolver";
import { ConnectionTestResolver } from "./connection-test.resolver";
import { ConnectionTypeResolver } from "./connection-type.resolver";
import { ConnectionResolver } from "./connection.resolver";
import { InvitationResolver, WorkspaceInvitationsResolver } from "./invitation.resolver";
import { ConnectionEnvironmentResolver, ConnectionOverrideResolver, WorkspaceEnvironmentResolver } from "./environment.resolver";
import { MemberResolver } from "./member.resolver";
import { BundleResolver } from "./bundle.resolver";
import { ResolveResolver } from "./resolve.resolver";
import { ResolvedConnectionResolver } from "./resolved-connection.resolver";
import { StagedImportResolver } from "./staged-import.resolver";
import { TestScheduleResolver } from "./test-schedule.resolver";
import { TransferResolver } from "./transfer.resolver";
import { WebhookResolver, WorkspaceWebhooksResolver } from "./webhook.resolver";
import { WorkspaceResolver } from "./workspace.resolver";

export const resolvers = [
  AuthResolver,
  WorkspaceResolver,
  MemberResolver,
  InvitationResolver,
  WorkspaceInvitationsResolver,
  ConnectionResolver,
  ConnectionTestResolver,
  ConnectionTypeResolver,
  ApiTokenResolver,
  ResolveResolver,
  ResolvedConnectionResolver,
  TransferResolver,
  StagedImportResolver,
  TestScheduleResolver,
  WebhookResolver,
  WorkspaceWebhooksResolver,
  ConnectionEnvironmentResolver,
  ConnectionOverrideResolver,
  WorkspaceEnvironmentResolver,
  BundleResolver,
] as const;
