import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildReportHtml, UserError } from "@keepwarm/core";
import type { Run } from "../command";
import { operatorCondition } from "../report-error";
import type { reportArgs } from "./index";
import { resolvePeriod } from "./stats-period";

const DEFAULT_REPORT_DAYS = 182;

export const reportCommand: Run<typeof reportArgs> = async (values, ctx) => {
  if (values.out.trim() === "") throw new UserError("--out needs a file name, e.g. --out report.html");
  const store = await ctx.store({ readonlyFallback: true });
  const html = await buildReportHtml(store, await resolvePeriod(store, ctx, values, DEFAULT_REPORT_DAYS));
  const path = resolve(values.out);
  try {
    writeFileSync(path, html);
  } catch (error) {
    throw new UserError(`cannot write ${path}: ${operatorCondition(error) ?? (error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  ctx.out(`wrote ${path} (${Math.ceil(Buffer.byteLength(html) / 1024)} KB): open it in a browser; it makes no network requests`);
  return 0;
};
