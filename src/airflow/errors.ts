/**
 * The one error this folder throws: input that is not valid in Airflow's formats. `field`
 * names the offending part (`port`, `extra`, `uri`, `line 3`, ...) so a caller can map it to
 * BAD_USER_INPUT with a field, without this folder depending on the GraphQL layer.
 */
export class AirflowFormatError extends Error {
  override readonly name = "AirflowFormatError";

  constructor(
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}
