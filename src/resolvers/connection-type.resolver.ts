import { Query, Resolver } from "type-graphql";
import { listAdapters } from "../adapters/registry";
import { ConnectionTypeType } from "../schema/connection-type.type";

@Resolver(() => ConnectionTypeType)
export class ConnectionTypeResolver {
  @Query(() => [ConnectionTypeType], { description: "Every connection type with the fields of its form." })
  connectionTypes(): ConnectionTypeType[] {
    return listAdapters().map((adapter) => ({
      id: adapter.id,
      label: adapter.label,
      defaultPort: adapter.defaultPort ?? null,
      testable: typeof adapter.test === "function",
      fields: adapter.fields.map((field) => ({
        name: field.name,
        label: field.label,
        kind: field.kind,
        required: field.required ?? false,
        secret: field.secret ?? false,
        default: field.default ?? null,
        placeholder: field.placeholder ?? null,
        description: field.description ?? null,
        options: field.options ?? null,
      })),
    }));
  }
}
