/** The audit log, newest first, a page at a time. ADMIN and OWNER. */
import { useState } from "preact/hooks";
import { Alert, Loading, Pager, When } from "../components/common";
import { AuditEventsDocument, type WorkspaceSummaryFragment } from "../gql/graphql";
import { usePageHeading, useQuery } from "../hooks";

const PAGE_SIZE = 50;

export function AuditLogPage({ workspace }: { workspace: WorkspaceSummaryFragment }) {
  const heading = usePageHeading("Audit log");
  const allowed = workspace.permissions.readAuditLog;
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const query = useQuery(AuditEventsDocument, allowed ? { slug: workspace.slug, first: PAGE_SIZE, after: cursors[cursors.length - 1] } : null);
  const page = query.data?.workspace?.auditEvents;
  return (
    <section>
      <h1 ref={heading} tabIndex={-1}>
        Audit log
      </h1>
      {!allowed && <Alert>Only workspace admins and owners read the audit log.</Alert>}
      {query.error && <Alert>{query.error.message}</Alert>}
      {allowed && !page && !query.error && <Loading what="the audit log" />}
      {page && (
        <>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">From</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {page.nodes.map((e) => (
                  <tr key={e.id}>
                    <td>
                      <When at={e.at} />
                    </td>
                    <td>{e.actor}</td>
                    <td>
                      <code>{e.action}</code>
                    </td>
                    <td>{e.targetType ? `${e.targetType} ${e.targetId ?? ""}` : <span class="muted">none</span>}</td>
                    <td>{e.clientIp ?? <span class="muted">unknown</span>}</td>
                    <td class="details">{e.details == null ? "" : <code>{JSON.stringify(e.details)}</code>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            what="events"
            from={(cursors.length - 1) * PAGE_SIZE}
            count={page.nodes.length}
            hasPrevious={cursors.length > 1}
            hasNext={page.pageInfo.hasNextPage}
            onPrevious={() => setCursors(cursors.slice(0, -1))}
            onNext={() => setCursors([...cursors, page.pageInfo.endCursor])}
          />
        </>
      )}
    </section>
  );
}
