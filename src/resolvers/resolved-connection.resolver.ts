import { Arg, FieldResolver, Resolver, Root } from "type-graphql";
import { airflowView } from "../adapters/registry";
import { toAirflowConnectionDict } from "../airflow/connection-dict";
import { toSqlalchemyUrl } from "../airflow/sqlalchemy";
import { toAirflowUri } from "../airflow/uri";
import { AirflowUriDialect, PostgresDriver } from "../schema/import-export.type";
import { JSONScalar } from "../schema/scalars";
import { ResolvedConnectionType } from "../schema/resolved-connection.type";
import type { ResolvedConnectionData } from "../services/connections/resolution";

/**
 * The other forms a resolved connection is wanted in, computed only when asked for. The Airflow
 * forms show the connection as Airflow's hooks expect it (airflowView), e.g. an http base URL
 * in host; the resolved connection's own fields keep Patchbay's split form.
 */
@Resolver(() => ResolvedConnectionType)
export class ResolvedConnectionResolver {
  @FieldResolver(() => String, {
    description:
      "Airflow's URI form, exactly as Airflow's Connection.get_uri() would write it, in the dialect asked for (EXTRA_JSON, for Airflow 2.7 to 3.1, by default).",
  })
  airflowUri(
    @Root() connection: ResolvedConnectionData,
    @Arg("dialect", () => AirflowUriDialect, { defaultValue: AirflowUriDialect.EXTRA_JSON }) dialect: AirflowUriDialect,
  ): string {
    return toAirflowUri(airflowView(connection), dialect);
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: "For database types, a SQLAlchemy URL; null otherwise. postgresDriver names PostgreSQL's driver (PSYCOPG2 by default).",
  })
  sqlalchemyUrl(
    @Root() connection: ResolvedConnectionData,
    @Arg("postgresDriver", () => PostgresDriver, { defaultValue: PostgresDriver.PSYCOPG2 }) postgresDriver: PostgresDriver,
  ): string | null {
    return toSqlalchemyUrl(connection, { postgresDriver });
  }

  @FieldResolver(() => JSONScalar, {
    description: "Airflow's JSON form: conn_type, description, host, login, password, schema, port, extra.",
  })
  airflowJson(@Root() connection: ResolvedConnectionData) {
    return toAirflowConnectionDict(airflowView(connection));
  }
}
