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

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An ISO-8601 date-time with a zone, each part in its calendar range: `new Date()` alone would
 * roll 2027-02-30 over to 2 March instead of refusing it.
 */
function parseDate(value: unknown): Date {
  const match = typeof value === "string" ? ISO_DATE_TIME.exec(value) : null;
  if (!match) {
    throw new GraphQLError("DateTime must be an ISO-8601 date and time with a zone, such as 2027-01-31T00:00:00Z.");
  }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    throw new GraphQLError(`DateTime ${match[0]} is not a date on the calendar.`);
  }
  const date = new Date(match[0]);
  if (Number.isNaN(date.getTime())) throw new GraphQLError("DateTime must be a valid date.");
  return date;
}

/** The contract's `JSON`: any JSON value (`extra` is always an object). */
export const JSONScalar = GraphQLJSON;
