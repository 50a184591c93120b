/**
 * Sign in, or create an account, with an email and a password. Opened from an invitation link,
 * creating an account sends the invitation along, so the new account joins at once (and, where
 * sign-up is by invitation, may be created at all).
 */
import { useState } from "preact/hooks";
import { request } from "../api/client";
import { Alert } from "../components/common";
import { FieldError } from "../connection-form/fields";
import { CreateAccountDocument, CreateWorkspaceDocument, SignInDocument, type WorkspaceSummaryFragment } from "../gql/graphql";
import { toApiError, usePageHeading } from "../hooks";
import { href } from "../router";

export function SignInPage({ onSignedIn, invitationToken }: { onSignedIn(token: string, joined: boolean): void; invitationToken: string | null }) {
  const heading = usePageHeading("Sign in");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  const submit = async (kind: "sign-in" | "create") => {
    const found: Record<string, string> = {};
    if (!email.trim()) found.email = "Enter your email address.";
    if (!password) found.password = "Enter your password.";
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const token =
        kind === "sign-in"
          ? (await request(SignInDocument, { email: email.trim(), password })).logIn.token
          : (await request(CreateAccountDocument, { email: email.trim(), password, invitationToken: invitationToken || null })).signUp.token;
      onSignedIn(token, kind === "create" && Boolean(invitationToken));
    } catch (error) {
      const failure = toApiError(error);
      setErrors({ [failure.field === "email" || failure.field === "password" ? failure.field : "form"]: failure.message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="narrow">
      <h1 ref={heading} tabIndex={-1}>
        Sign in to Patchbay
      </h1>
      {invitationToken && <p>You have an invitation. Sign in, or create an account, with the email it was sent to.</p>}
      <form
        class="card"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit("sign-in");
        }}
      >
        {errors.form && <Alert>{errors.form}</Alert>}
        <div class="field">
          <label for="field-email">Email</label>
          <input id="field-email" type="email" autocomplete="username" value={email} aria-invalid={errors.email ? true : undefined} aria-describedby={errors.email ? "field-email-error" : undefined} onInput={(e) => setEmail(e.currentTarget.value)} />
          <FieldError name="email" error={errors.email} />
        </div>
        <div class="field">
          <label for="field-password">Password</label>
          <input
            id="field-password"
            type="password"
            autocomplete="current-password"
            value={password}
            aria-invalid={errors.password ? true : undefined}
            aria-describedby={errors.password ? "field-password-error" : undefined}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
          <FieldError name="password" error={errors.password} />
        </div>
        <div class="actions">
          <button type="submit" disabled={busy}>
            Sign in
          </button>
          <button type="button" class="button-secondary" disabled={busy} onClick={() => void submit("create")}>
            Create account
          </button>
        </div>
      </form>
    </section>
  );
}

export function NewWorkspacePage({ onCreated }: { onCreated(workspace: WorkspaceSummaryFragment): void }) {
  const heading = usePageHeading("New workspace");
  const [slug, setSlug] = useState("");
  const [name, setName] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      const { createWorkspace } = await request(CreateWorkspaceDocument, { slug: slug.trim(), name: name.trim() });
      onCreated(createWorkspace);
    } catch (error) {
      const failure = toApiError(error);
      setErrors({ [failure.field === "slug" || failure.field === "name" ? failure.field : "form"]: failure.message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="narrow">
      <h1 ref={heading} tabIndex={-1}>
        New workspace
      </h1>
      <p>A workspace holds a team's connections, members and tokens, each encrypted with its own key.</p>
      <p>
        Invited to a team's workspace? <a href={href({ page: "accept", token: "" })}>Accept the invitation</a>.
      </p>
      <form class="card" onSubmit={submit} noValidate>
        {errors.form && <Alert>{errors.form}</Alert>}
        <div class="field">
          <label for="field-slug">Slug</label>
          <input
            id="field-slug"
            autocomplete="off"
            spellcheck={false}
            value={slug}
            aria-invalid={errors.slug ? true : undefined}
            aria-describedby={`slug-help${errors.slug ? " field-slug-error" : ""}`}
            onInput={(e) => setSlug(e.currentTarget.value)}
          />
          <p class="help" id="slug-help">
            Lower-case letters, digits and hyphens, e.g. <code>analytics</code>. Code names the workspace by it.
          </p>
          <FieldError name="slug" error={errors.slug} />
        </div>
        <div class="field">
          <label for="field-workspace-name">Name</label>
          <input id="field-workspace-name" autocomplete="off" value={name} aria-invalid={errors.name ? true : undefined} aria-describedby={errors.name ? "field-name-error" : undefined} onInput={(e) => setName(e.currentTarget.value)} />
          <FieldError name="name" error={errors.name} />
        </div>
        <div class="actions">
          <button type="submit" disabled={busy}>
            Create
          </button>
        </div>
      </form>
    </section>
  );
}
