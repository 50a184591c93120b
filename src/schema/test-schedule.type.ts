import { Field, ID, Int, ObjectType } from "type-graphql";
import { DateTimeScalar } from "./scalars";

@ObjectType("TestSchedule", { description: "A scheduled re-test: one connection, or every connection of the workspace when connectionId is null." })
export class TestScheduleType {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { nullable: true, description: "Null: every connection of the workspace." })
  connectionId!: string | null;

  @Field(() => String, { nullable: true, description: "One environment of the connection: its override's values, results recorded on the override. Null: the connection's own values (and, for all connections, every environment with an override too)." })
  environment!: string | null;

  @Field(() => Int, { description: "Minutes between runs, 1 to 1440." })
  everyMinutes!: number;

  @Field(() => DateTimeScalar, { description: "When the scheduler runs it next (at the latest one tick later)." })
  nextRunAt!: Date;

  @Field(() => DateTimeScalar)
  createdAt!: Date;
}
