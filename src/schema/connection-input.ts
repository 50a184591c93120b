import { Field, InputType, Int } from "type-graphql";
import { JSONScalar } from "./scalars";

@InputType("ConnectionInput")
export class ConnectionInput {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  type!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => String, { nullable: true })
  host?: string | null;

  @Field(() => Int, { nullable: true })
  port?: number | null;

  @Field(() => String, { nullable: true })
  schema?: string | null;

  @Field(() => String, { nullable: true })
  login?: string | null;

  @Field(() => String, { nullable: true })
  password?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: "May hold the secret keys the type declares; they are stored encrypted." })
  extra?: unknown;
}

@InputType("ConnectionPatch", {
  description:
    "An omitted field keeps its value; null clears it. `extra` replaces the non-secret extras; a secret extra key is set when present, cleared when null, kept when absent. Changing type, host, port or login while keeping stored secrets needs the right to resolve them; otherwise the secrets must be given again.",
})
export class ConnectionPatch {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true, description: "Change the connection's type; extras the new type declares secret are re-sorted." })
  type?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => String, { nullable: true })
  host?: string | null;

  @Field(() => Int, { nullable: true })
  port?: number | null;

  @Field(() => String, { nullable: true })
  schema?: string | null;

  @Field(() => String, { nullable: true })
  login?: string | null;

  @Field(() => String, { nullable: true })
  password?: string | null;

  @Field(() => JSONScalar, { nullable: true })
  extra?: unknown;
}
