/** A connection's health over its last tests (Connection.health), as a definition list. */
import type { HealthFieldsFragment } from "../gql/graphql";
import { StatusBadge, When } from "./common";

export function HealthSummary({ health }: { health: HealthFieldsFragment }) {
  return (
    <>
      <h2>Health</h2>
      {health.results === 0 ? (
        <p class="muted">No tests yet: health is summarised from the last 20 tests, manual and scheduled.</p>
      ) : (
        <dl class="settings health" data-testid="health">
          <div>
            <dt>Status</dt>
            <dd>
              {health.status && <StatusBadge status={health.status} />} since <When at={health.since} empty="unknown" />
            </dd>
          </div>
          <div>
            <dt>Last {health.results} tests</dt>
            <dd>
              {health.successes} succeeded, {health.failures} failed
              {health.successRate !== null && ` (${Math.round(health.successRate * 100)} %)`}
            </dd>
          </div>
          <div>
            <dt>Failures in a row</dt>
            <dd>{health.consecutiveFailures}</dd>
          </div>
          <div>
            <dt>Last success</dt>
            <dd>
              <When at={health.lastSuccessAt} />
            </dd>
          </div>
          <div>
            <dt>Last failure</dt>
            <dd>
              <When at={health.lastFailureAt} />
            </dd>
          </div>
          <div>
            <dt>Average latency</dt>
            <dd>{health.averageLatencyMs !== null ? `${health.averageLatencyMs} ms` : <span class="muted">no success</span>}</dd>
          </div>
        </dl>
      )}
    </>
  );
}
