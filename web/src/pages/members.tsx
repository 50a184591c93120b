/**
 * Members and their roles. Everyone in the workspace sees the list; admins invite people
 * (invitations.tsx) and change or remove members below OWNER; only owners touch the OWNER role.
 */
import { useState } from "preact/hooks";
import { request } from "../api/client";
import { Alert, Loading, When } from "../components/common";
import { Dialog } from "../components/dialog";
import { MembersDocument, RemoveMemberDocument, type Role, SetMemberRoleDocument, type WorkspaceSummaryFragment } from "../gql/graphql";
import { toApiError, usePageHeading, useQuery } from "../hooks";
import { Invitations } from "./invitations";

const ROLES: Role[] = ["VIEWER", "MEMBER", "ADMIN", "OWNER"];

export function MembersPage({ workspace, userId, onChanged }: { workspace: WorkspaceSummaryFragment; userId: string; onChanged(): void }) {
  const heading = usePageHeading("Members");
  const query = useQuery(MembersDocument, { slug: workspace.slug });
  const members = query.data?.workspace?.members;
  const can = workspace.permissions;
  const grantable = ROLES.filter((r) => r !== "OWNER" || can.manageOwners);
  const [status, setStatus] = useState<string | null>(null);
  const [removing, setRemoving] = useState<{ id: string; label: string } | null>(null);

  const change = async (id: string, label: string, next: Role) => {
    try {
      await request(SetMemberRoleDocument, { workspaceId: workspace.id, userId: id, role: next });
      setStatus(`${label} is now ${next}.`);
      if (id === userId) onChanged();
    } catch (error) {
      setStatus(`Changing ${label}'s role failed: ${toApiError(error).message}`);
    }
    query.reload();
  };
  const remove = async () => {
    if (!removing) return;
    try {
      await request(RemoveMemberDocument, { workspaceId: workspace.id, userId: removing.id });
      setStatus(`Removed ${removing.label}.`);
      if (removing.id === userId) onChanged();
    } catch (error) {
      setStatus(`Removing ${removing.label} failed: ${toApiError(error).message}`);
    }
    setRemoving(null);
    query.reload();
  };
  const mayChange = (memberRole: Role) => can.manageMembers && (memberRole !== "OWNER" || can.manageOwners);

  return (
    <section>
      <h1 ref={heading} tabIndex={-1}>
        Members
      </h1>
      {can.manageMembers && <Invitations workspace={workspace} grantable={grantable} />}
      <h2>People</h2>
      <p role="status" class="status-line">
        {status}
      </p>
      {query.error && <Alert>{query.error.message}</Alert>}
      {!members && !query.error && <Loading what="members" />}
      {members && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Role</th>
                <th scope="col">Joined</th>
                {can.manageMembers && (
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {members.map((m) => {
                const label = m.user.name ? `${m.user.name} (${m.user.email})` : m.user.email;
                return (
                  <tr key={m.user.id}>
                    <th scope="row">
                      {label}
                      {m.user.id === userId && <span class="muted"> (you)</span>}
                    </th>
                    <td>
                      {mayChange(m.role) ? (
                        <select aria-label={`Role of ${m.user.email}`} value={m.role} onChange={(e) => change(m.user.id, m.user.email, e.currentTarget.value as Role)}>
                          {grantable.map((r) => (
                            <option key={r} value={r}>
                              {r}
                            </option>
                          ))}
                        </select>
                      ) : (
                        m.role
                      )}
                    </td>
                    <td>
                      <When at={m.joinedAt} />
                    </td>
                    {can.manageMembers && (
                      <td>
                        {mayChange(m.role) && (
                          <button type="button" class="button-danger" aria-label={`Remove ${m.user.email}`} onClick={() => setRemoving({ id: m.user.id, label: m.user.email })}>
                            Remove
                          </button>
                        )}
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <Dialog title={removing ? `Remove ${removing.label}?` : "Remove"} open={removing !== null} onClose={() => setRemoving(null)}>
        <p>They lose access to this workspace at once.</p>
        <div class="actions">
          <button type="button" class="button-danger" onClick={remove}>
            Remove
          </button>
          <button type="button" class="button-secondary" onClick={() => setRemoving(null)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </section>
  );
}
