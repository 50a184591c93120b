import { Field, Float, Int, ObjectType } from "type-graphql";
import { TestStatus } from "./enums";
import { DateTimeScalar } from "./scalars";

@ObjectType("ConnectionHealth", { description: "A summary of the connection's last test results (scheduled or not)." })
export class ConnectionHealthType {
  @Field(() => TestStatus, { nullable: true, description: "The newest result's status; null before the first test." })
  status!: TestStatus | null;

  @Field(() => Int, { description: "Results summarised (at most `last`)." })
  results!: number;

  @Field(() => Int)
  successes!: number;

  @Field(() => Int)
  failures!: number;

  @Field(() => Float, { nullable: true, description: "successes / results; null with no results." })
  successRate!: number | null;

  @Field(() => Int, { description: "Failures since the newest success." })
  consecutiveFailures!: number;

  @Field(() => DateTimeScalar, { nullable: true, description: "When the current status began, as far as the summarised results show." })
  since!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  lastSuccessAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  lastFailureAt!: Date | null;

  @Field(() => Int, { nullable: true, description: "Mean latency of the successful tests summarised, in ms." })
  averageLatencyMs!: number | null;
}
