/**
 * JSON text inside Airflow files and URIs (`.env` values, `__extra__`), read with the bounds
 * of src/input/json.ts and refused as AirflowFormatError naming `field`. Parser messages quote
 * the text, which may hold a password, so only the position is kept.
 */
import { parseUserJson, UnsafeJsonError } from "../input/json";
import { AirflowFormatError } from "./errors";

export function parseBoundedJson(text: string, field: string, notJsonMessage: string): unknown {
  try {
    return parseUserJson(text);
  } catch (error) {
    if (error instanceof UnsafeJsonError) throw unsafeJson(error, field);
    throw new AirflowFormatError(notJsonMessage, field);
  }
}

export function unsafeJson(error: UnsafeJsonError, field: string): AirflowFormatError {
  const at = error.path.length > 0 ? ` (at ${error.path.join(".")})` : "";
  return new AirflowFormatError(`${field} is not allowed: ${error.message}${at}.`, field);
}
