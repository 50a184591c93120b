import { Field, ID, Int, ObjectType } from "type-graphql";
import { TestStatus } from "./enums";
import { DateTimeScalar } from "./scalars";

@ObjectType("Webhook", { description: "Called with a signed POST when a connection's status changes (README: Health)." })
export class WebhookType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  url!: string;

  @Field(() => DateTimeScalar)
  createdAt!: Date;
}

@ObjectType("CreatedWebhook", { description: "`secret` signs every delivery; it is shown here once and never again." })
export class CreatedWebhookType {
  @Field(() => String)
  secret!: string;

  @Field(() => WebhookType)
  webhook!: WebhookType;
}

@ObjectType("WebhookDelivery", { description: "One attempt: outcome SENDING (in flight), DELIVERED (a 2xx answer), FAILED (tried again from the outbox while attempts are left; also an attempt interrupted by its process's end) or REFUSED (the egress policy; nothing was sent). Pruned to the newest PATCHBAY_WEBHOOK_DELIVERIES_KEPT per webhook and PATCHBAY_WEBHOOK_DELIVERY_DAYS." })
export class WebhookDeliveryType {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { nullable: true, description: "The message this attempt belongs to (X-Patchbay-Delivery): every attempt of one change shares it." })
  messageId!: string | null;

  @Field(() => ID)
  connectionId!: string;

  @Field(() => String, { nullable: true, description: "The environment whose status changed (testConnectionIn or a schedule in it); null: the connection's own." })
  environment!: string | null;

  @Field(() => TestStatus)
  oldStatus!: string;

  @Field(() => TestStatus)
  newStatus!: string;

  @Field(() => Int)
  attempt!: number;

  @Field(() => String)
  outcome!: string;

  @Field(() => Int, { nullable: true })
  statusCode!: number | null;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => DateTimeScalar)
  at!: Date;
}
