#!/usr/bin/env node
// The `patchbay` command (npx patchbay …): runs clients/cli/main.ts through tsx.
import { register } from "tsx/esm/api";

register();
const { main } = await import(new URL("../clients/cli/main.ts", import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
