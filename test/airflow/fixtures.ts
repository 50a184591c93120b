/**
 * Connections used across the Airflow tests, and what Airflow writes for them. The expected
 * strings were produced by Airflow's own code paths: `Connection.get_uri()` and
 * `_connection_to_dict` (airflow/models/connection.py, airflow/cli/commands/connection_command.py)
 * run on CPython 3.11 with `json.dumps(..., indent=2)` and PyYAML 6.0.3's libyaml CSafeDumper,
 * i.e. exactly what `airflow connections export` writes for the equivalent connections.
 */
import type { PortableConnection } from "../../src/airflow/types";

export const HOSTILE_PASSWORD = "p@ss:w/rd%+?#&= \u00fc\u{1F600}";

export const CONNECTIONS: PortableConnection[] = [
  {
    name: "prod_db",
    type: "postgres",
    description: "Main warehouse",
    host: "db.internal",
    port: 5432,
    schema: "analytics",
    login: "etl@corp",
    password: HOSTILE_PASSWORD,
    extra: { sslmode: "require" },
  },
  {
    name: "api",
    type: "http",
    description: null,
    host: "https://api.example.com",
    port: null,
    schema: null,
    login: "svc",
    password: "tok en",
    extra: {},
  },
  {
    name: "lake",
    type: "s3",
    description: "MinIO bucket",
    host: null,
    port: null,
    schema: null,
    login: "AKIAIOSFODNN7EXAMPLE",
    password: "wJalr/XUtnFEMI+K7MDENG",
    extra: { region_name: "eu-west-1", endpoint_url: "http://minio:9000", bucket: "raw", aws_session_token: "FQoGZXIvYXdzE" },
  },
  {
    name: "mongo_main",
    type: "mongodb",
    description: null,
    host: "mongo.local",
    port: 27017,
    schema: "admin",
    login: "root",
    password: "pw",
    extra: { ssl: true, options: { replicaSet: "rs0" } },
  },
  {
    name: "local_sqlite",
    type: "sqlite",
    description: null,
    host: "/tmp/patchbay.db",
    port: null,
    schema: null,
    login: null,
    password: null,
    extra: {},
  },
  {
    name: "pypi_mirror",
    type: "package_index",
    description: "Internal PyPI",
    host: "https://pypi.example.org/simple",
    port: null,
    schema: null,
    login: "user",
    password: "pw",
    extra: {},
  },
];

/** Secret extra keys per type, as the adapter registry would declare them. */
export const secretExtraKeys = (type: string): string[] => (type === "s3" ? ["aws_session_token"] : []);

export const EXPECTED_URIS: Record<string, string> = {
  api: "http://https://svc:tok%20en@api.example.com",
  lake: "aws://AKIAIOSFODNN7EXAMPLE:wJalr%2FXUtnFEMI%2BK7MDENG@/?region_name=eu-west-1&endpoint_url=http%3A%2F%2Fminio%3A9000&bucket=raw&aws_session_token=FQoGZXIvYXdzE",
  local_sqlite: "sqlite://%2Ftmp%2Fpatchbay.db",
  mongo_main:
    "mongo://root:pw@mongo.local:27017/admin?__extra__=%7B%22ssl%22%3A+true%2C+%22options%22%3A+%7B%22replicaSet%22%3A+%22rs0%22%7D%7D",
  prod_db:
    "postgres://etl%40corp:p%40ss%3Aw%2Frd%25%2B%3F%23%26%3D%20%C3%BC%F0%9F%98%80@db.internal:5432/analytics?sslmode=require",
  pypi_mirror: "package-index://https://user:pw@pypi.example.org%2Fsimple",
};

/** `airflow connections export connections.json` */
export const AIRFLOW_EXPORT_JSON = `{
  "api": {
    "conn_type": "http",
    "description": null,
    "login": "svc",
    "password": "tok en",
    "host": "https://api.example.com",
    "port": null,
    "schema": null,
    "extra": null
  },
  "lake": {
    "conn_type": "aws",
    "description": "MinIO bucket",
    "login": "AKIAIOSFODNN7EXAMPLE",
    "password": "wJalr/XUtnFEMI+K7MDENG",
    "host": null,
    "port": null,
    "schema": null,
    "extra": "{\\"region_name\\": \\"eu-west-1\\", \\"endpoint_url\\": \\"http://minio:9000\\", \\"bucket\\": \\"raw\\", \\"aws_session_token\\": \\"FQoGZXIvYXdzE\\"}"
  },
  "local_sqlite": {
    "conn_type": "sqlite",
    "description": null,
    "login": null,
    "password": null,
    "host": "/tmp/patchbay.db",
    "port": null,
    "schema": null,
    "extra": null
  },
  "mongo_main": {
    "conn_type": "mongo",
    "description": null,
    "login": "root",
    "password": "pw",
    "host": "mongo.local",
    "port": 27017,
    "schema": "admin",
    "extra": "{\\"ssl\\": true, \\"options\\": {\\"replicaSet\\": \\"rs0\\"}}"
  },
  "prod_db": {
    "conn_type": "postgres",
    "description": "Main warehouse",
    "login": "etl@corp",
    "password": "p@ss:w/rd%+?#&= \\u00fc\\ud83d\\ude00",
    "host": "db.internal",
    "port": 5432,
    "schema": "analytics",
    "extra": "{\\"sslmode\\": \\"require\\"}"
  },
  "pypi_mirror": {
    "conn_type": "package_index",
    "description": "Internal PyPI",
    "login": "user",
    "password": "pw",
    "host": "https://pypi.example.org/simple",
    "port": null,
    "schema": null,
    "extra": null
  }
}`;

/** `airflow connections export connections.yaml` (libyaml folds the long extra at column 80) */
export const AIRFLOW_EXPORT_YAML = `api:
  conn_type: http
  description: null
  extra: null
  host: https://api.example.com
  login: svc
  password: tok en
  port: null
  schema: null
lake:
  conn_type: aws
  description: MinIO bucket
  extra: '{"region_name": "eu-west-1", "endpoint_url": "http://minio:9000", "bucket":
    "raw", "aws_session_token": "FQoGZXIvYXdzE"}'
  host: null
  login: AKIAIOSFODNN7EXAMPLE
  password: wJalr/XUtnFEMI+K7MDENG
  port: null
  schema: null
local_sqlite:
  conn_type: sqlite
  description: null
  extra: null
  host: /tmp/patchbay.db
  login: null
  password: null
  port: null
  schema: null
mongo_main:
  conn_type: mongo
  description: null
  extra: '{"ssl": true, "options": {"replicaSet": "rs0"}}'
  host: mongo.local
  login: root
  password: pw
  port: 27017
  schema: admin
prod_db:
  conn_type: postgres
  description: Main warehouse
  extra: '{"sslmode": "require"}'
  host: db.internal
  login: etl@corp
  password: "p@ss:w/rd%+?#&= \\xFC\\U0001F600"
  port: 5432
  schema: analytics
pypi_mirror:
  conn_type: package_index
  description: Internal PyPI
  extra: null
  host: https://pypi.example.org/simple
  login: user
  password: pw
  port: null
  schema: null
`;

/** `airflow connections export connections.env` */
export const AIRFLOW_EXPORT_ENV = Object.keys(EXPECTED_URIS)
  .sort()
  .map((name) => `${name}=${EXPECTED_URIS[name]}\n`)
  .join("");
