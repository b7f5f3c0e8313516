#!/usr/bin/env node
import { runCli } from "./cli";
import { processIo } from "./io";

// `keepwarm sweep --json | head` closes stdout early: that is the reader's choice, not a crash.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2), processIo());
