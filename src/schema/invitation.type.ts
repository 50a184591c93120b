import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { Role } from "./enums";
import { DateTimeScalar } from "./scalars";

export const InvitationStatus = { PENDING: "PENDING", ACCEPTED: "ACCEPTED", EXPIRED: "EXPIRED", REVOKED: "REVOKED" } as const;
export type InvitationStatus = keyof typeof InvitationStatus;

registerEnumType(InvitationStatus, {
  name: "InvitationStatus",
  description: "PENDING until accepted, revoked or expired; only a PENDING invitation can be accepted.",
});

@ObjectType("Invitation", { description: "An invitation to join a workspace; the invited person must accept it." })
export class InvitationType {
  workspaceId!: string;
  invitedById!: string | null;

  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "The invited address, normalised (trimmed, lower case)." })
  email!: string;

  @Field(() => Role)
  role!: Role;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar)
  expiresAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  acceptedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  revokedAt!: Date | null;
}

@ObjectType("CreatedInvitation", { description: "`token` is shown once; the invited person passes it to acceptInvitation." })
export class CreatedInvitationType {
  @Field(() => String)
  token!: string;

  @Field(() => InvitationType)
  invitation!: InvitationType;
}
