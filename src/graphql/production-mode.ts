/**
 * graphql-js decides once, when it is first imported, whether to run its development checks
 * (every failed `instanceof` in the executor then inspects constructor names to warn about two
 * copies of graphql): only `NODE_ENV=production` turns them off. Those checks cost a page of
 * connections a measurable share of its CPU, while Patchbay's own development mode (egress,
 * sign-up, master key; src/config.ts) has nothing to do with them. So the server imports its
 * modules with NODE_ENV set to production for that moment only, and puts back the value the
 * configuration was read from.
 */
export async function importWithGraphqlInProductionMode<T>(load: () => Promise<T>): Promise<T> {
  const configured = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    return await load();
  } finally {
    if (configured === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = configured;
  }
}
