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

  @Field(() => ID, { description: "The admin on whose behalf it runs (the last to set it); it runs only while they are ADMIN or OWNER here." })
  createdById!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: "Set when it stopped running because its admin was demoted or removed; null while it runs. setTestSchedule resumes it on the caller's behalf." })
  pausedAt!: Date | null;

  @Field(() => String, { nullable: true, description: "Why it is paused." })
  pausedReason!: string | null;
}
