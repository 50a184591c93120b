/** What an admin page shows someone whose role may not use it (the API refuses them anyway). */
import { Alert } from "../components/common";
import type { usePageHeading } from "../hooks";

export function AdminOnly({ title, heading, what }: { title: string; heading: ReturnType<typeof usePageHeading>; what: string }) {
  return (
    <section>
      <h1 ref={heading} tabIndex={-1}>
        {title}
      </h1>
      <Alert>Only workspace admins and owners {what}.</Alert>
    </section>
  );
}
