/**
 * Types every GraphQL operation of the page from the server's own schema: the build prints the
 * SDL from the type-graphql resolvers (web/generated/schema.graphql), then this turns
 * web/src/api/operations.graphql into typed documents (web/src/gql/). An operation that asks
 * for a field the server lacks fails the build.
 */
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "web/generated/schema.graphql",
  documents: ["web/src/**/*.graphql"],
  ignoreNoDocuments: false,
  generates: {
    "web/src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        // Documents as plain strings: no GraphQL parser or AST in the bundle.
        documentMode: "string",
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: "string", JSON: "unknown" },
        avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
      },
    },
  },
  silent: true,
};

export default config;
