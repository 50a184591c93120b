/**
 * Accepting an invitation, signed in with the invited email: the link an admin sent opens
 * #/accept?token=pbi_…, which fills the form; pasting the link or the token works too.
 */
import { useState } from "preact/hooks";
import { request } from "../api/client";
import { Alert } from "../components/common";
import { FieldError } from "../connection-form/fields";
import { AcceptInvitationDocument } from "../gql/graphql";
import { toApiError, usePageHeading } from "../hooks";

const TOKEN = /pbi_[0-9A-Za-z]{32}_[0-9A-Za-z]{6}/;

/** The token inside whatever was pasted (the whole link, or the token alone). */
export function invitationTokenIn(text: string): string {
  return TOKEN.exec(text)?.[0] ?? text.trim();
}

export function AcceptInvitationPage({ token, email, onJoined }: { token: string; email: string; onJoined(slug: string, notice: string): void }) {
  const heading = usePageHeading("Accept an invitation");
  const [value, setValue] = useState(token);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  const accept = async (event: Event) => {
    event.preventDefault();
    const candidate = invitationTokenIn(value);
    if (!candidate) return setErrors({ token: "Paste the invitation link or token you were sent." });
    setErrors({});
    setBusy(true);
    try {
      const { acceptInvitation } = await request(AcceptInvitationDocument, { token: candidate });
      onJoined(acceptInvitation.workspace.slug, `You joined ${acceptInvitation.workspace.name} as ${acceptInvitation.role}.`);
    } catch (error) {
      const failure = toApiError(error);
      setErrors({ [failure.field === "token" ? "token" : "form"]: failure.message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="narrow">
      <h1 ref={heading} tabIndex={-1}>
        Accept an invitation
      </h1>
      <p>
        You are signed in as <strong>{email}</strong>. An invitation works only for the email it was sent to.
      </p>
      <form class="card" onSubmit={accept} noValidate>
        {errors.form && <Alert>{errors.form}</Alert>}
        <div class="field">
          <label for="field-token">Invitation link or token</label>
          <input
            id="field-token"
            autocomplete="off"
            spellcheck={false}
            value={value}
            aria-invalid={errors.token ? true : undefined}
            aria-describedby={errors.token ? "field-token-error" : undefined}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
          <FieldError name="token" error={errors.token} />
        </div>
        <div class="actions">
          <button type="submit" disabled={busy}>
            Accept invitation
          </button>
        </div>
      </form>
    </section>
  );
}
