/**
 * Deleting a connection: a confirmation first; when code resolved it in the last 7 days the
 * server refuses with who it was (the delete guard), and those allowed may "Delete anyway".
 */
import { useState } from "preact/hooks";
import { request } from "../api/client";
import { DeleteConnectionDocument } from "../gql/graphql";
import { toApiError } from "../hooks";
import { Alert, When } from "./common";
import { Dialog } from "./dialog";

interface UsedBy {
  actorKind: string;
  actorName: string;
  count: number;
  lastUsedAt: string;
}

export function DeleteConnectionDialog({
  connection,
  canForce,
  onClose,
  onDeleted,
}: {
  connection: { id: string; name: string } | null;
  canForce: boolean;
  onClose(): void;
  onDeleted(name: string): void;
}) {
  const [busy, setBusy] = useState(false);
  const [guard, setGuard] = useState<{ message: string; usedBy: UsedBy[] } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const close = () => {
    setGuard(null);
    setError(null);
    onClose();
  };
  const remove = async (force: boolean) => {
    if (!connection) return;
    setBusy(true);
    setError(null);
    try {
      await request(DeleteConnectionDocument, { id: connection.id, force });
      setGuard(null);
      onDeleted(connection.name);
    } catch (caught) {
      const failure = toApiError(caught);
      const usedBy = failure.extensions.usedBy;
      if (failure.code === "CONFLICT" && Array.isArray(usedBy)) setGuard({ message: failure.message, usedBy: usedBy as UsedBy[] });
      else setError(failure.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={connection ? `Delete ${connection.name}?` : "Delete"} open={connection !== null} onClose={close}>
      {connection && !guard && <p>Code and pipelines that use {connection.name} by name will stop working. This cannot be undone.</p>}
      {guard && (
        <div role="alert" class="guard">
          <p>{guard.message.replace(" Pass force: true to delete it anyway.", "")}</p>
          <ul>
            {guard.usedBy.map((u) => (
              <li key={`${u.actorKind}:${u.actorName}`}>
                {u.actorName} ({u.actorKind === "API_TOKEN" ? "API token" : "person"}): {u.count} {u.count === 1 ? "time" : "times"}, last{" "}
                <When at={u.lastUsedAt} />
              </li>
            ))}
          </ul>
        </div>
      )}
      {error && <Alert>{error}</Alert>}
      <div class="actions">
        {!guard && (
          <button type="button" class="button-danger" disabled={busy} onClick={() => remove(false)}>
            Delete
          </button>
        )}
        {guard && canForce && (
          <button type="button" class="button-danger" disabled={busy} onClick={() => remove(true)}>
            Delete anyway
          </button>
        )}
        <button type="button" class="button-secondary" onClick={close}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
