/** A draft's plain (not secret) fields as the Connection table's columns. */
import type { Prisma } from "../../generated/prisma/client";
import type { ConnectionDraft } from "./draft";

export function plainColumns(draft: ConnectionDraft) {
  return {
    name: draft.name,
    type: draft.type,
    description: draft.description,
    host: draft.host,
    port: draft.port,
    schema: draft.schema,
    login: draft.login,
    extra: draft.extra as Prisma.InputJsonObject,
  };
}
