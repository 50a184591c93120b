/**
 * Invitations, on the Members page for admins and owners: invite an email with a role (the
 * link with its token is shown once, to send however you like), the invitations of the last
 * 30 days with their status, and revoking one that is still pending. Owners alone invite
 * OWNERs and revoke their invitations, as the server enforces.
 */
import { useState } from "preact/hooks";
import { request } from "../api/client";
import { Alert, Loading, When } from "../components/common";
import { ShownOnce } from "../components/shown-once";
import { Dialog } from "../components/dialog";
import { FieldError } from "../connection-form/fields";
import { type InvitationFieldsFragment, InvitationsDocument, InviteMemberDocument, RevokeInvitationDocument, type Role, type WorkspaceSummaryFragment } from "../gql/graphql";
import { toApiError, useQuery } from "../hooks";
import { href } from "../router";

export function Invitations({ workspace, grantable }: { workspace: WorkspaceSummaryFragment; grantable: Role[] }) {
  const query = useQuery(InvitationsDocument, { slug: workspace.slug });
  const invitations = query.data?.workspace?.invitations;
  const can = workspace.permissions;
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("MEMBER");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ token: string; email: string; role: Role } | null>(null);
  const [revoking, setRevoking] = useState<InvitationFieldsFragment | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  const invite = async (event: Event) => {
    event.preventDefault();
    if (!email.trim()) return setErrors({ email: "Enter the person's email address." });
    setErrors({});
    setBusy(true);
    setCreated(null);
    try {
      const { inviteMember } = await request(InviteMemberDocument, { workspaceId: workspace.id, email: email.trim(), role });
      setCreated({ token: inviteMember.token, email: inviteMember.invitation.email, role: inviteMember.invitation.role });
      setEmail("");
      query.reload();
    } catch (error) {
      const failure = toApiError(error);
      setErrors({ [failure.field === "email" ? "email" : "form"]: failure.message });
    } finally {
      setBusy(false);
    }
  };
  const revoke = async () => {
    if (!revoking) return;
    try {
      await request(RevokeInvitationDocument, { id: revoking.id });
      setStatus(`Revoked the invitation for ${revoking.email}.`);
    } catch (error) {
      setStatus(`Revoking the invitation for ${revoking.email} failed: ${toApiError(error).message}`);
    }
    setRevoking(null);
    query.reload();
  };
  const link = created && `${location.origin}/${href({ page: "accept", token: created.token })}`;

  return (
    <>
      <form class="card" onSubmit={invite} noValidate>
        <h2>Invite a member</h2>
        <p class="muted">They join when they accept, signed in with this email. An invitation works once and expires after 7 days.</p>
        {errors.form && <Alert>{errors.form}</Alert>}
        <div class="inline-fields">
          <div class="field">
            <label for="member-email">Email</label>
            <input id="member-email" type="email" autocomplete="off" value={email} aria-invalid={errors.email ? true : undefined} aria-describedby={errors.email ? "field-email-error" : undefined} onInput={(e) => setEmail(e.currentTarget.value)} />
            <FieldError name="email" error={errors.email} />
          </div>
          <div class="field">
            <label for="member-role">Role</label>
            <select id="member-role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
              {grantable.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" disabled={busy}>
            {busy ? "Inviting…" : "Invite"}
          </button>
        </div>
      </form>
      {created && link && (
        <ShownOnce
          id="invitation-link"
          title={`Invitation for ${created.email} as ${created.role}`}
          label="Invitation link"
          value={link}
          copyLabel="Copy link"
          onDone={() => setCreated(null)}
        >
          <p>
            <strong>Copy the link now: it is shown only once.</strong> Send it to {created.email}; Patchbay sends no mail and keeps only a hash of
            its token.
          </p>
        </ShownOnce>
      )}
      <p role="status" class="status-line">
        {status}
      </p>
      <h2>Invitations</h2>
      {query.error && <Alert>{query.error.message}</Alert>}
      {!invitations && !query.error && <Loading what="invitations" />}
      {invitations && invitations.length === 0 && <p>No invitations in the last 30 days.</p>}
      {invitations && invitations.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Expires</th>
                <th scope="col">Invited by</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {invitations.map((invitation) => (
                <tr key={invitation.id}>
                  <th scope="row">{invitation.email}</th>
                  <td>{invitation.role}</td>
                  <td>{invitation.status.toLowerCase()}</td>
                  <td>{invitation.status === "PENDING" || invitation.status === "EXPIRED" ? <When at={invitation.expiresAt} /> : "—"}</td>
                  <td>{invitation.invitedBy?.email ?? "—"}</td>
                  <td>
                    {invitation.status === "PENDING" && (invitation.role !== "OWNER" || can.manageOwners) && (
                      <button type="button" class="button-danger" aria-label={`Revoke the invitation for ${invitation.email}`} onClick={() => setRevoking(invitation)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Dialog title={revoking ? `Revoke the invitation for ${revoking.email}?` : "Revoke"} open={revoking !== null} onClose={() => setRevoking(null)}>
        <p>Its link stops working at once. You can invite them again later.</p>
        <div class="actions">
          <button type="button" class="button-danger" onClick={revoke}>
            Revoke
          </button>
          <button type="button" class="button-secondary" onClick={() => setRevoking(null)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </>
  );
}
