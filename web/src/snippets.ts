/**
 * How to use a connection by name from code, filled in with this server's address and the
 * connection's name. None holds a secret: each reads the token from the environment.
 */
export interface Snippet {
  id: string;
  title: string;
  language: string;
  code: string;
}

export function snippetsFor(connection: { name: string; type: string }, serverUrl: string, workspaceSlug: string, environments: string[] = []): Snippet[] {
  const name = connection.name;
  const py = JSON.stringify(name);
  const env =
    `export PATCHBAY_URL=${serverUrl}\nexport PATCHBAY_TOKEN=pbt_...   # an API token with the RESOLVE scope in ${workspaceSlug}` +
    // The clients read the environment from PATCHBAY_ENVIRONMENT (README: Environments).
    (environments.length ? `\nexport PATCHBAY_ENVIRONMENT=${environments[0]}   # optional: its values in ${environments.join(", ")}` : "");
  const tsCall =
    connection.type === "postgres"
      ? `const pool = await patchbay.pgPool(${py});          // a pg.Pool\nconst { rows } = await pool.query("SELECT now()");\nawait pool.end();`
      : connection.type === "mysql"
        ? `const pool = await patchbay.mysqlPool(${py});       // a mysql2/promise pool\nconst [rows] = await pool.query("SELECT NOW()");\nawait pool.end();`
        : `const conn = await patchbay.connection(${py});      // host, port, schema, login, password, extra`;
  return [
    {
      id: "python",
      title: "Python client",
      language: "python",
      code:
        `# ${env.replace(/\n/g, "\n# ")}\n` +
        `import patchbay  # clients/python/patchbay.py\nimport sqlalchemy\n\n` +
        `conn = patchbay.connection(${py})\n` +
        `engine = sqlalchemy.create_engine(conn.sqlalchemy_url())  # database types\n` +
        `uri = patchbay.uri(${py})  # Airflow's URI form`,
    },
    {
      id: "airflow",
      title: "Airflow secrets backend",
      language: "ini",
      code:
        `# airflow.cfg, with patchbay.py on the scheduler's and workers' PYTHONPATH\n` +
        `[secrets]\n` +
        `backend = patchbay.PatchbaySecretsBackend\n` +
        `backend_kwargs = {"url": "${serverUrl}", "token": "pbt_..."}\n\n` +
        `# then in a DAG, by its conn_id:\n` +
        `# BaseHook.get_connection(${py})`,
    },
    {
      id: "jupysql",
      title: "JupySQL",
      language: "python",
      code:
        `# ~/.jupysql/connections.ini comes from Patchbay: Import / Export, format JupySQL ini, or\n` +
        `#   npx patchbay connections export --format jupysql-ini -o ~/.jupysql/connections.ini\n` +
        `# Without secrets (they need ADMIN) it is a stub: add the password line yourself.\n` +
        `%load_ext sql\n` +
        `%sql --section ${name}`,
    },
    {
      id: "typescript",
      title: "TypeScript pool",
      language: "ts",
      code:
        `// ${env.replace(/\n/g, "\n// ")}\n` +
        `import { createPatchbayClient } from "patchbay-client";\n\n` +
        `const patchbay = createPatchbayClient();\n` +
        tsCall,
    },
  ];
}
