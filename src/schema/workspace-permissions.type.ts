import { Field, ObjectType } from "type-graphql";

@ObjectType("WorkspacePermissions", {
  description:
    "What the caller may do in this workspace, from their role or their token's scopes (DESIGN.md, " +
    "Who may do what), so a front end shows only the controls that will work. The API still checks every request.",
})
export class WorkspacePermissionsType {
  @Field(() => Boolean, { description: "Read the workspace, its members, connection metadata, test results and usage." })
  read!: boolean;

  @Field(() => Boolean, { description: "Test saved connections." })
  testConnections!: boolean;

  @Field(() => Boolean, {
    description: "Read connections' secrets (resolveConnection); also lets an edit or a test repoint a connection while keeping its stored secrets.",
  })
  resolveConnections!: boolean;

  @Field(() => Boolean, { description: "Create, update, rename, delete (also when in use) and import connections; test unsaved input." })
  writeConnections!: boolean;

  @Field(() => Boolean, { description: "Create, list and revoke API tokens." })
  manageApiTokens!: boolean;

  @Field(() => Boolean, { description: "Read the audit log." })
  readAuditLog!: boolean;

  @Field(() => Boolean, { description: "Add members and change or remove members below OWNER." })
  manageMembers!: boolean;

  @Field(() => Boolean, { description: "Grant, change or remove the OWNER role." })
  manageOwners!: boolean;

  @Field(() => Boolean, { description: "Export connections with their secrets (exportConnections with includeSecrets)." })
  exportSecrets!: boolean;

  @Field(() => Boolean, { description: "Set and remove test schedules; create, list and delete webhooks and read their deliveries." })
  manageHealthChecks!: boolean;

  @Field(() => Boolean, { description: "Import a bundle (importBundle). Exporting one needs exportSecrets." })
  importBundles!: boolean;
}
