import { GraphQLScalarType } from "graphql";
import { GraphQLDateTime, GraphQLJSON } from "graphql-scalars";

/**
 * The contract's `DateTime`: an RFC 3339 date-time with a zone on the wire, a Date in
 * resolvers. graphql-scalars does the validation, each part in its calendar range (`new
 * Date()` alone would roll 2027-02-30 over to 2 March instead of refusing it); the answer is
 * always written as an ISO string with milliseconds and Z.
 */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  ...GraphQLDateTime.toConfig(),
  description: "An ISO-8601 (RFC 3339) date and time with a zone, e.g. 2026-11-23T19:21:15.000Z.",
  serialize: (value) => (GraphQLDateTime.serialize(value) as Date).toISOString(),
});

/** The contract's `JSON`: any JSON value (`extra` is always an object). */
export const JSONScalar = GraphQLJSON;
