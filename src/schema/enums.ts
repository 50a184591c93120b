import { registerEnumType } from "type-graphql";
import { ActorKind, Role, TestStatus, TokenScope } from "../generated/prisma/enums";

export { ActorKind, Role, TestStatus, TokenScope };

export const FieldKind = {
  STRING: "STRING",
  INTEGER: "INTEGER",
  BOOLEAN: "BOOLEAN",
  PASSWORD: "PASSWORD",
  TEXT: "TEXT",
  SELECT: "SELECT",
  JSON: "JSON",
} as const;
export type FieldKind = (typeof FieldKind)[keyof typeof FieldKind];

registerEnumType(Role, { name: "Role", description: "OWNER > ADMIN > MEMBER > VIEWER." });
registerEnumType(TokenScope, { name: "TokenScope" });
registerEnumType(TestStatus, { name: "TestStatus" });
registerEnumType(ActorKind, { name: "ActorKind" });
registerEnumType(FieldKind, { name: "FieldKind" });
