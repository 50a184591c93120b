import { registerEnumType } from "type-graphql";
import { FIELD_KINDS, type FieldKind as FieldKindName } from "../adapters/types";
import { ActorKind, Role, TestStatus, TokenScope } from "../generated/prisma/enums";

export { ActorKind, Role, TestStatus, TokenScope };

export const FieldKind = Object.fromEntries(FIELD_KINDS.map((kind) => [kind, kind])) as { [K in FieldKindName]: K };
export type FieldKind = FieldKindName;

registerEnumType(Role, { name: "Role", description: "OWNER > ADMIN > MEMBER > VIEWER." });
registerEnumType(TokenScope, { name: "TokenScope" });
registerEnumType(TestStatus, { name: "TestStatus" });
registerEnumType(ActorKind, { name: "ActorKind" });
registerEnumType(FieldKind, { name: "FieldKind" });
