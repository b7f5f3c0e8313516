import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildReportHtml, UserError } from "@keepwarm/core";
import { parse } from "../args";
import type { Context } from "../context";
import { resolvePeriod } from "./stats-period";

const USAGE = "keepwarm report --out FILE.html [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--segment S] [--calibrate]";
/** --calibrate replays as much history as `keepwarm health calibrate` does by default. */
const CALIBRATE_DAYS = 365;

export async function reportCommand(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parse(
    args,
    { out: { type: "string" }, since: { type: "string" }, until: { type: "string" }, segment: { type: "string" }, calibrate: { type: "boolean" } },
    USAGE,
  );
  if (positionals.length > 0) throw new UserError(`unexpected argument "${positionals[0]}"\nusage: ${USAGE}`);
  if (values.out === undefined || values.out.trim() === "") throw new UserError(`missing --out FILE.html\nusage: ${USAGE}`);
  const store = await ctx.store();
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
    throw new UserError(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  ctx.out(`wrote ${path} (${Math.ceil(Buffer.byteLength(html) / 1024)} KB): open it in a browser; it makes no network requests`);
  return 0;
}
