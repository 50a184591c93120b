import { Arg, Ctx, ID, Mutation, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { BundleReportType } from "../schema/bundle.type";
import { OnConflict } from "../schema/import-export.type";

@Resolver()
export class BundleResolver {
  @Mutation(() => String, { description: "ADMIN. Every connection with its overrides, secrets included, encrypted under the passphrase." })
  exportBundle(
    @Arg("workspaceId", () => ID) workspaceId: string,
    @Arg("passphrase", () => String) passphrase: string,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.bundles.export(caller, workspaceId, passphrase);
  }

  @Mutation(() => BundleReportType, { description: "ADMIN. All or nothing; a wrong passphrase or a modified bundle is BAD_USER_INPUT." })
  importBundle(
    @Arg("workspaceId", () => ID) workspaceId: string,
    @Arg("bundle", () => String) bundle: string,
    @Arg("passphrase", () => String) passphrase: string,
    @Arg("onConflict", () => OnConflict, { defaultValue: OnConflict.FAIL }) onConflict: OnConflict,
    @Arg("dryRun", () => Boolean, { defaultValue: false }) dryRun: boolean,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.bundles.import(caller, workspaceId, { bundle, passphrase, onConflict, dryRun });
  }
}
