/** Builders for the objects most tests need, through the public API. */
import { randomBytes } from "node:crypto";
import type { GraphQLClient } from "./client";

export const CONNECTION_FIELDS = `
  id name type description host port schema login extra secretFields version createdAt updatedAt lastUsedAt
`;

export interface SignedUp {
  client: GraphQLClient;
  token: string;
  userId: string;
  email: string;
}

export async function signUp(anonymous: GraphQLClient, label = "user"): Promise<SignedUp> {
  const email = `${label}-${randomBytes(4).toString("hex")}@example.com`;
  const data = await anonymous.ok(
    `mutation($email: String!, $password: String!, $name: String) {
      signUp(email: $email, password: $password, name: $name) { token user { id email } }
    }`,
    { email, password: PASSWORD, name: label },
  );
  return { client: anonymous.as(data.signUp.token), token: data.signUp.token, userId: data.signUp.user.id, email };
}

export async function createWorkspace(owner: GraphQLClient, slug = `ws-${randomBytes(4).toString("hex")}`): Promise<{ id: string; slug: string }> {
  const data = await owner.ok(`mutation($slug: String!, $name: String!) { createWorkspace(slug: $slug, name: $name) { id slug } }`, {
    slug,
    name: `Workspace ${slug}`,
  });
  return data.createWorkspace;
}

export const PASSWORD = "correct horse battery";

export async function inviteMember(admin: GraphQLClient, workspaceId: string, email: string, role: string): Promise<{ token: string; id: string }> {
  const data = await admin.ok(
    `mutation($w: ID!, $e: String!, $r: Role!) { inviteMember(workspaceId: $w, email: $e, role: $r) { token invitation { id } } }`,
    { w: workspaceId, e: email, r: role },
  );
  return { token: data.inviteMember.token, id: data.inviteMember.invitation.id };
}

/**
 * Makes a person (signed up by signUp() above, so with its password) a member the only way
 * there is: an invitation, accepted by that person signed in.
 */
export async function addMember(admin: GraphQLClient, workspaceId: string, email: string, role: string): Promise<void> {
  const { token } = await inviteMember(admin, workspaceId, email, role);
  const session = await admin.as(null).ok(`mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token } }`, { e: email, p: PASSWORD });
  await admin.as(session.logIn.token).ok(`mutation($t: String!) { acceptInvitation(token: $t) { role } }`, { t: token });
}

export async function createConnection(
  client: GraphQLClient,
  workspaceId: string,
  input: Record<string, unknown> = {},
): Promise<any> {
  const data = await client.ok(
    `mutation($w: ID!, $input: ConnectionInput!) { createConnection(workspaceId: $w, input: $input) { ${CONNECTION_FIELDS} } }`,
    {
      w: workspaceId,
      input: {
        name: `conn_${randomBytes(4).toString("hex")}`,
        type: "postgres",
        host: "db.example.com",
        port: 5432,
        schema: "analytics",
        login: "reporter",
        password: "s3cret-Pa55word!",
        ...input,
      },
    },
  );
  return data.createConnection;
}

export async function createApiToken(admin: GraphQLClient, workspaceId: string, scopes: string[], name = "ci"): Promise<{ token: string; id: string }> {
  const data = await admin.ok(
    `mutation($w: ID!, $n: String!, $s: [TokenScope!]!) { createApiToken(workspaceId: $w, name: $n, scopes: $s) { token apiToken { id } } }`,
    { w: workspaceId, n: name, s: scopes },
  );
  return { token: data.createApiToken.token, id: data.createApiToken.apiToken.id };
}
