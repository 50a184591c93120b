import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from "type-graphql";
import type { Webhook, Workspace } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { CreatedWebhookType, WebhookDeliveryType, WebhookType } from "../schema/webhook.type";
import { WorkspaceType } from "../schema/workspace.type";

@Resolver(() => WebhookType)
export class WebhookResolver {
  @Mutation(() => CreatedWebhookType, { description: "ADMIN and above: an http(s) URL (at most 2048 characters) called on every status change. Audited." })
  createWebhook(@Arg("workspaceId", () => ID) workspaceId: string, @Arg("url", () => String) url: string, @Ctx() { caller, services }: GraphQLContext) {
    return services.webhooks.create(caller, workspaceId, url);
  }

  @Mutation(() => Boolean, { description: "ADMIN and above. Audited." })
  deleteWebhook(@Arg("id", () => ID) id: string, @Ctx() { caller, services }: GraphQLContext) {
    return services.webhooks.delete(caller, id);
  }

  @FieldResolver(() => [WebhookDeliveryType], { description: "The newest attempts first (1 to 100)." })
  deliveries(@Root() webhook: Webhook, @Arg("first", () => Int, { defaultValue: 20 }) first: number, @Ctx() { services }: GraphQLContext) {
    return services.webhooks.deliveries(webhook, first);
  }
}

@Resolver(() => WorkspaceType)
export class WorkspaceWebhooksResolver {
  @FieldResolver(() => [WebhookType], { description: "ADMIN and above." })
  webhooks(@Root() workspace: Workspace, @Ctx() { caller, services }: GraphQLContext) {
    return services.webhooks.list(caller, workspace.id);
  }
}
