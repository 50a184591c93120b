import { GraphQLError, GraphQLScalarType, Kind } from "graphql";
import { GraphQLJSON } from "graphql-scalars";

/** The contract's `DateTime`: an ISO-8601 string on the wire, a Date in resolvers. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  description: "An ISO-8601 date and time, e.g. 2026-11-23T19:21:15.000Z.",
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError("DateTime cannot represent an invalid date.");
    return date.toISOString();
  },
  parseValue(value) {
    return parseDate(value);
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError("DateTime must be an ISO-8601 string.");
    return parseDate(ast.value);
  },
});

function parseDate(value: unknown): Date {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw new GraphQLError("DateTime must be an ISO-8601 string such as 2027-01-31T00:00:00Z.");
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new GraphQLError("DateTime must be a valid date.");
  return date;
}

/** The contract's `JSON`: any JSON value (`extra` is always an object). */
export const JSONScalar = GraphQLJSON;
