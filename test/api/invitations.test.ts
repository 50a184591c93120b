/**
 * People join a workspace only by accepting an invitation, with an account whose email
 * matches; invitations expire, can be revoked, work once, never grant more than the inviter
 * holds, and inviting tells nobody whether an email has an account. Over real HTTP against a
 * real server and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { addMember, createApiToken, createWorkspace, inviteMember, PASSWORD, signUp, type SignedUp } from "../support/factories";

const INVITE = `mutation($w: ID!, $e: String!, $r: Role!) {
  inviteMember(workspaceId: $w, email: $e, role: $r) { token invitation { id email role status expiresAt acceptedAt revokedAt } }
}`;
const ACCEPT = `mutation($t: String!) { acceptInvitation(token: $t) { role user { id email } workspace { id slug } } }`;
const REVOKE = `mutation($id: ID!) { revokeInvitation(id: $id) { id status revokedAt } }`;
const LIST = `query($s: String!) { workspace(slug: $s) { invitations { id email role status invitedBy { email } } members { role user { email } } } }`;
const SIGN_UP = `mutation($e: String!, $p: String!, $i: String) { signUp(email: $e, password: $p, invitationToken: $i) { token user { id } } }`;

let app: TestApp;
let anonymous: GraphQLClient;
let owner: SignedUp;
let workspace: { id: string; slug: string };

beforeAll(async () => {
  app = await startTestApp();
  anonymous = new GraphQLClient(app.url);
  owner = await signUp(anonymous, "owner");
  workspace = await createWorkspace(owner.client);
});

afterAll(async () => {
  await app?.stop();
});

async function auditActions(slug: string): Promise<Array<{ action: string; actor: string; targetId: string | null }>> {
  const data = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { auditEvents(first: 200) { nodes { action actor targetId } } } }`, { s: slug });
  return data.workspace.auditEvents.nodes;
}

describe("accepting", () => {
  it("joins the workspace with the invited role, when the signed-in email matches case-insensitively", async () => {
    const person = await signUp(anonymous, "joiner");
    const invited = (await owner.client.ok(INVITE, { w: workspace.id, e: `  ${person.email.toUpperCase()} `, r: "MEMBER" })).inviteMember;
    expect(invited.token).toMatch(/^pbi_[0-9A-Za-z]{32}_[0-9A-Za-z]{6}$/);
    expect(invited.invitation).toMatchObject({ email: person.email, role: "MEMBER", status: "PENDING", acceptedAt: null, revokedAt: null });
    const days = (Date.parse(invited.invitation.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThanOrEqual(7);

    // Not a member until they accept.
    expect((await person.client.ok(`query($s: String!) { workspace(slug: $s) { id } }`, { s: workspace.slug })).workspace).toBeNull();
    const listed = (await owner.client.ok(LIST, { s: workspace.slug })).workspace;
    expect(listed.invitations).toContainEqual({ id: invited.invitation.id, email: person.email, role: "MEMBER", status: "PENDING", invitedBy: { email: owner.email } });
    expect(listed.members.map((m: any) => m.user.email)).not.toContain(person.email);

    const joined = (await person.client.ok(ACCEPT, { t: invited.token })).acceptInvitation;
    expect(joined).toEqual({ role: "MEMBER", user: { id: person.userId, email: person.email }, workspace: { id: workspace.id, slug: workspace.slug } });
    const after = (await person.client.ok(`query($s: String!) { workspace(slug: $s) { myRole } }`, { s: workspace.slug })).workspace;
    expect(after).toEqual({ myRole: "MEMBER" });
    const invitations = (await owner.client.ok(LIST, { s: workspace.slug })).workspace.invitations;
    expect(invitations.find((i: any) => i.id === invited.invitation.id).status).toBe("ACCEPTED");

    const events = await auditActions(workspace.slug);
    expect(events).toContainEqual({ action: "invitation.create", actor: owner.email, targetId: invited.invitation.id });
    expect(events).toContainEqual({ action: "invitation.accept", actor: person.email, targetId: invited.invitation.id });
  });

  it("stores only an HMAC of the token, and never logs it", async () => {
    const { token, id } = await inviteMember(owner.client, workspace.id, "stored@example.com", "VIEWER");
    const rows = await app.prisma.$queryRaw<Array<{ row: string }>>`SELECT row_to_json(i)::text AS row FROM "Invitation" i WHERE id = ${id}`;
    expect(rows).toHaveLength(1);
    expect(rows[0].row).not.toContain(token);
    expect(rows[0].row).not.toContain(token.slice(4, 36));
    expect(app.logs.join("\n")).not.toContain(token.slice(4, 36));
    // Nor does any read of the invitation show it again.
    expect(JSON.stringify(await owner.client.ok(LIST, { s: workspace.slug }))).not.toContain(token.slice(4, 36));
  });

  it("refuses another account, and the invitation still works for the right one", async () => {
    const invitee = await signUp(anonymous, "invitee");
    const other = await signUp(anonymous, "bystander");
    const { token } = await inviteMember(owner.client, workspace.id, invitee.email, "VIEWER");
    const refused = await other.client.fails(ACCEPT, { t: token });
    expect(refused.code).toBe("FORBIDDEN");
    expect(refused.message).not.toContain(invitee.email);
    expect((await other.client.ok(`query($s: String!) { workspace(slug: $s) { id } }`, { s: workspace.slug })).workspace).toBeNull();
    expect((await invitee.client.ok(ACCEPT, { t: token })).acceptInvitation.role).toBe("VIEWER");
  });

  it("refuses an expired invitation", async () => {
    const person = await signUp(anonymous, "late");
    const { token, id } = await inviteMember(owner.client, workspace.id, person.email, "MEMBER");
    await app.prisma.$executeRaw`UPDATE "Invitation" SET "expiresAt" = now() - interval '1 second' WHERE id = ${id}`;
    const refused = await person.client.fails(ACCEPT, { t: token });
    expect(refused).toMatchObject({ code: "BAD_USER_INPUT", field: "token", extensions: { reason: "EXPIRED" } });
    expect(refused.message).toMatch(/expired/);
    const listed = (await owner.client.ok(LIST, { s: workspace.slug })).workspace.invitations;
    expect(listed.find((i: any) => i.id === id).status).toBe("EXPIRED");
  });

  it("refuses a revoked invitation; revoking is audited and harmless twice", async () => {
    const person = await signUp(anonymous, "revoked");
    const { token, id } = await inviteMember(owner.client, workspace.id, person.email, "MEMBER");
    const revoked = (await owner.client.ok(REVOKE, { id })).revokeInvitation;
    expect(revoked).toMatchObject({ id, status: "REVOKED" });
    expect(revoked.revokedAt).toBeTruthy();
    expect((await owner.client.ok(REVOKE, { id })).revokeInvitation.revokedAt).toBe(revoked.revokedAt);
    expect(await person.client.fails(ACCEPT, { t: token })).toMatchObject({ code: "BAD_USER_INPUT", field: "token", extensions: { reason: "REVOKED" } });
    expect((await auditActions(workspace.slug)).filter((e) => e.action === "invitation.revoke" && e.targetId === id)).toHaveLength(1);
  });

  it("works once: a second accept, even racing the first, is refused", async () => {
    const person = await signUp(anonymous, "twice");
    const { token } = await inviteMember(owner.client, workspace.id, person.email, "MEMBER");
    const second = await anonymous.ok(`mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token } }`, { e: person.email, p: PASSWORD });
    const racing = await Promise.all([person.client.request(ACCEPT, { t: token }), anonymous.as(second.logIn.token).request(ACCEPT, { t: token })]);
    expect(racing.filter((r) => r.data?.acceptInvitation)).toHaveLength(1);
    const loser = racing.find((r) => r.errors)!;
    expect(loser.errors![0].extensions).toMatchObject({ code: "BAD_USER_INPUT", reason: "ACCEPTED" });
    expect(await person.client.fails(ACCEPT, { t: token })).toMatchObject({ code: "BAD_USER_INPUT", extensions: { reason: "ACCEPTED" } });
    const members = (await owner.client.ok(LIST, { s: workspace.slug })).workspace.members;
    expect(members.filter((m: any) => m.user.email === person.email)).toHaveLength(1);
  });

  it("inviting the same email again replaces the open invitation: the old token stops working", async () => {
    const person = await signUp(anonymous, "again");
    const first = await inviteMember(owner.client, workspace.id, person.email, "VIEWER");
    const second = await inviteMember(owner.client, workspace.id, person.email, "MEMBER");
    expect(await person.client.fails(ACCEPT, { t: first.token })).toMatchObject({ code: "BAD_USER_INPUT", extensions: { reason: "REVOKED" } });
    expect((await person.client.ok(ACCEPT, { t: second.token })).acceptInvitation.role).toBe("MEMBER");
    // A member is not invited again.
    expect(await owner.client.fails(INVITE, { w: workspace.id, e: person.email, r: "ADMIN" })).toMatchObject({ code: "CONFLICT", field: "email" });
  });

  it("answers malformed and unknown tokens clearly, and only for people", async () => {
    const person = await signUp(anonymous, "typo");
    const { token } = await inviteMember(owner.client, workspace.id, person.email, "MEMBER");
    const typo = token.slice(0, 10) + (token[10] === "a" ? "b" : "a") + token.slice(11);
    expect(await person.client.fails(ACCEPT, { t: typo })).toMatchObject({ code: "BAD_USER_INPUT", field: "token" });
    expect(await person.client.fails(ACCEPT, { t: "" })).toMatchObject({ code: "BAD_USER_INPUT", field: "token" });
    const { generateInvitationToken } = await import("../../src/auth/invitation-token");
    expect((await person.client.fails(ACCEPT, { t: generateInvitationToken() })).code).toBe("NOT_FOUND");
    expect((await anonymous.fails(ACCEPT, { t: token })).code).toBe("UNAUTHENTICATED");
    const apiToken = await createApiToken(owner.client, workspace.id, ["READ", "WRITE"]);
    expect((await anonymous.as(apiToken.token).fails(ACCEPT, { t: token })).code).toBe("FORBIDDEN");
    expect((await anonymous.as(apiToken.token).fails(INVITE, { w: workspace.id, e: "x@example.com", r: "VIEWER" })).code).toBe("FORBIDDEN");
    // None of that used the invitation up.
    expect((await person.client.ok(ACCEPT, { t: token })).acceptInvitation.role).toBe("MEMBER");
  });

  it("refuses an email that is not an address, naming the field", async () => {
    for (const email of ["", "not-an-email", "a@b", "x".repeat(250) + "@example.com"]) {
      expect(await owner.client.fails(INVITE, { w: workspace.id, e: email, r: "VIEWER" })).toMatchObject({ code: "BAD_USER_INPUT", field: "email" });
    }
  });
});

describe("the role cap", () => {
  let admin: SignedUp;
  let ws: { id: string; slug: string };

  beforeAll(async () => {
    ws = await createWorkspace(owner.client);
    admin = await signUp(anonymous, "admin");
    await addMember(owner.client, ws.id, admin.email, "ADMIN");
  });

  it("an ADMIN invites up to ADMIN, never OWNER; an OWNER invites an OWNER", async () => {
    for (const role of ["ADMIN", "MEMBER", "VIEWER"]) {
      expect((await admin.client.ok(INVITE, { w: ws.id, e: `cap-${role}@example.com`, r: role })).inviteMember.invitation.role).toBe(role);
    }
    expect((await admin.client.fails(INVITE, { w: ws.id, e: "heir@example.com", r: "OWNER" })).code).toBe("FORBIDDEN");
    const heir = await signUp(anonymous, "heir");
    const { token } = await inviteMember(owner.client, ws.id, heir.email, "OWNER");
    expect((await heir.client.ok(ACCEPT, { t: token })).acceptInvitation.role).toBe("OWNER");
  });

  it("members and viewers cannot invite", async () => {
    const member = await signUp(anonymous, "plain");
    await addMember(owner.client, ws.id, member.email, "MEMBER");
    expect((await member.client.fails(INVITE, { w: ws.id, e: "friend@example.com", r: "VIEWER" })).code).toBe("FORBIDDEN");
    expect((await member.client.fails(LIST, { s: ws.slug })).code).toBe("FORBIDDEN");
  });

  it("an ADMIN cannot revoke an invitation to OWNER", async () => {
    const { id } = await inviteMember(owner.client, ws.id, "future-owner@example.com", "OWNER");
    expect((await admin.client.fails(REVOKE, { id })).code).toBe("FORBIDDEN");
    expect((await owner.client.ok(REVOKE, { id })).revokeInvitation.status).toBe("REVOKED");
  });

  it("an invitation shrinks with its inviter: demoted or removed, their invitations no longer admit", async () => {
    const inviter = await signUp(anonymous, "fading");
    await addMember(owner.client, ws.id, inviter.email, "ADMIN");
    const inviterClient = inviter.client;
    const demotedGuest = await signUp(anonymous, "guest-a");
    const removedGuest = await signUp(anonymous, "guest-b");
    const a = await inviteMember(inviterClient, ws.id, demotedGuest.email, "ADMIN");
    await owner.client.ok(`mutation($w: ID!, $u: ID!) { setMemberRole(workspaceId: $w, userId: $u, role: MEMBER) { role } }`, { w: ws.id, u: inviter.userId });
    expect((await demotedGuest.client.fails(ACCEPT, { t: a.token })).code).toBe("FORBIDDEN");

    await owner.client.ok(`mutation($w: ID!, $u: ID!) { setMemberRole(workspaceId: $w, userId: $u, role: ADMIN) { role } }`, { w: ws.id, u: inviter.userId });
    const b = await inviteMember(inviterClient, ws.id, removedGuest.email, "VIEWER");
    await owner.client.ok(`mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }`, { w: ws.id, u: inviter.userId });
    expect((await removedGuest.client.fails(ACCEPT, { t: b.token })).code).toBe("FORBIDDEN");
  });
});

describe("across workspaces", () => {
  it("an invitation admits to its own workspace only, and another workspace's admin cannot see or revoke it", async () => {
    const otherOwner = await signUp(anonymous, "other-owner");
    const other = await createWorkspace(otherOwner.client);
    const person = await signUp(anonymous, "cross");
    const { token, id } = await inviteMember(owner.client, workspace.id, person.email, "ADMIN");
    expect((await otherOwner.client.fails(REVOKE, { id })).code).toBe("NOT_FOUND");
    expect((await otherOwner.client.ok(LIST, { s: other.slug })).workspace.invitations).toEqual([]);
    expect((await otherOwner.client.ok(LIST, { s: workspace.slug })).workspace).toBeNull();
    const joined = (await person.client.ok(ACCEPT, { t: token })).acceptInvitation;
    expect(joined.workspace.id).toBe(workspace.id);
    const visible = (await person.client.ok(`{ workspaces { id } }`)).workspaces.map((w: any) => w.id);
    expect(visible).toContain(workspace.id);
    expect(visible).not.toContain(other.id);
  });
});

describe("whether an account exists", () => {
  it("inviting answers alike for an email with an account and one without", async () => {
    const existing = await signUp(anonymous, "exists");
    const answers = [];
    for (const email of [existing.email, `nobody-${Date.now()}@example.com`]) {
      const response = await owner.client.request(INVITE, { w: workspace.id, e: email, r: "VIEWER" });
      answers.push({
        status: response.status,
        errors: response.errors,
        shape: JSON.stringify(response.data, (key, value) => (["token", "id", "email", "expiresAt"].includes(key) ? typeof value : value)),
      });
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0].errors).toBeUndefined();
  });

  it("addMember, which added people without asking and told whether an email had an account, is gone", async () => {
    const response = await owner.client.request(`mutation($w: ID!) { addMember(workspaceId: $w, email: "x@example.com", role: VIEWER) { role } }`, { w: workspace.id });
    expect(response.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });
});

describe("sign-up with an invitation", () => {
  const email = (label: string) => `${label}-${Math.random().toString(16).slice(2, 10)}@example.com`;

  it("PATCHBAY_SIGNUP=invite admits the invited email only, and the new account joins at once", async () => {
    const invite = await startTestApp({ PATCHBAY_SIGNUP: "invite" });
    try {
      const client = new GraphQLClient(invite.url);
      const operator = await signUp(client, "operator");
      const ws = await createWorkspace(operator.client);
      const invitedEmail = email("newcomer");
      const { token } = await inviteMember(operator.client, ws.id, invitedEmail, "MEMBER");

      expect((await client.fails(SIGN_UP, { e: invitedEmail, p: PASSWORD })).code).toBe("FORBIDDEN");
      expect((await client.fails(SIGN_UP, { e: email("stranger"), p: PASSWORD, i: token })).code).toBe("FORBIDDEN");
      const signedUp = (await client.ok(SIGN_UP, { e: invitedEmail.toUpperCase(), p: PASSWORD, i: token })).signUp;
      const newcomer = client.as(signedUp.token);
      expect((await newcomer.ok(`query($s: String!) { workspace(slug: $s) { myRole } }`, { s: ws.slug })).workspace).toEqual({ myRole: "MEMBER" });
      // Used: it admits nobody else and cannot be accepted again.
      expect((await client.fails(SIGN_UP, { e: email("after"), p: PASSWORD, i: token })).code).toBe("FORBIDDEN");
      expect(await newcomer.fails(ACCEPT, { t: token })).toMatchObject({ code: "BAD_USER_INPUT", extensions: { reason: "ACCEPTED" } });
      const events = (await operator.client.ok(`query($s: String!) { workspace(slug: $s) { auditEvents { nodes { action actor } } } }`, { s: ws.slug }))
        .workspace.auditEvents.nodes;
      expect(events).toContainEqual({ action: "invitation.accept", actor: invitedEmail });

      // A revoked invitation admits nobody.
      const revokedEmail = email("revoked");
      const revoked = await inviteMember(operator.client, ws.id, revokedEmail, "VIEWER");
      await operator.client.ok(REVOKE, { id: revoked.id });
      expect((await client.fails(SIGN_UP, { e: revokedEmail, p: PASSWORD, i: revoked.token })).code).toBe("FORBIDDEN");
    } finally {
      await invite.stop();
    }
  });

  it("where sign-up is open, an invitation that does not fit is refused and no account is made", async () => {
    const person = email("open");
    const { token } = await inviteMember(owner.client, workspace.id, email("someone-else"), "VIEWER");
    expect(await anonymous.fails(SIGN_UP, { e: person, p: PASSWORD, i: token })).toMatchObject({ code: "BAD_USER_INPUT", field: "invitationToken" });
    expect((await anonymous.ok(SIGN_UP, { e: person, p: PASSWORD })).signUp.token).toBeTruthy();
  });
});

describe("rate limits", () => {
  it("bounds the invitations one workspace sends per hour", async () => {
    const limited = await startTestApp({ PATCHBAY_INVITATIONS_PER_WORKSPACE_PER_HOUR: "2" });
    try {
      const client = new GraphQLClient(limited.url);
      const admin = await signUp(client, "busy");
      const ws = await createWorkspace(admin.client);
      const other = await createWorkspace(admin.client);
      const codes = [];
      for (const label of ["a", "b", "c"]) codes.push((await admin.client.request(INVITE, { w: ws.id, e: `${label}@example.com`, r: "VIEWER" })).errors?.[0]?.extensions?.code ?? null);
      expect(codes).toEqual([null, null, "RATE_LIMITED"]);
      // Another workspace has its own allowance.
      expect((await admin.client.ok(INVITE, { w: other.id, e: "a@example.com", r: "VIEWER" })).inviteMember.token).toBeTruthy();
    } finally {
      await limited.stop();
    }
  });
});
