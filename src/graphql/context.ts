import type { Caller } from "../policy/caller";
import type { Services } from "../services";
import type { Loaders } from "./loaders";

/** What every resolver receives: who calls, the domain services, this request's loaders. */
export interface GraphQLContext {
  caller: Caller;
  services: Services;
  loaders: Loaders;
}
