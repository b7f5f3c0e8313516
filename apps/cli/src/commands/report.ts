import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildReportHtml, UserError } from "@keepwarm/core";
import type { Run } from "../command";
import { operatorCondition } from "../report-error";
import type { reportArgs } from "./index";
import { resolvePeriod } from "./stats-period";

/** --calibrate replays as much history as `keepwarm health calibrate` does by default. */
const CALIBRATE_DAYS = 365;

export const reportCommand: Run<typeof reportArgs> = async (values, ctx) => {
  if (values.out.trim() === "") throw new UserError("--out needs a file name, e.g. --out report.html");
  const store = await ctx.store({ readonlyFallback: true });
  const html = await buildReportHtml(store, await resolvePeriod(store, ctx, values), Date.now(), {
    ...(values.calibrate
      ? { calibrateDays: CALIBRATE_DAYS, onProgress: (done: number, total: number) => ctx.progress(`calibrate: ${done}/${total} customers`) }
      : {}),
  });
  ctx.progress("");
  const path = resolve(values.out);
  try {
    writeFileSync(path, html);
  } catch (error) {
    throw new UserError(`cannot write ${path}: ${operatorCondition(error) ?? (error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  ctx.out(`wrote ${path} (${Math.ceil(Buffer.byteLength(html) / 1024)} KB): open it in a browser; it makes no network requests`);
  return 0;
};
