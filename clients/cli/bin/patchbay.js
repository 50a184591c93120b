#!/usr/bin/env node
// The `patchbay` command of the patchbay-cli package: the compiled CLI (dist/, built by prepack).
import { main } from "../dist/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
