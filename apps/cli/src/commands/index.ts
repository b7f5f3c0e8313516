import type { Context } from "../context";
import { botCommand } from "./bot";
import { demoCommand } from "./demo";
import { doctorCommand } from "./doctor";
import { importCommand } from "./import";
import { initCommand } from "./init";
import { rulesCommand } from "./rules";
import { reportCommand } from "./report";
import { startCommand } from "./start";
import { statsCommand } from "./stats";
import { sweepCommand } from "./sweep";
import { touchCommand } from "./touch";
import { workerCommand } from "./worker";

export interface Command {
  summary: string;
  run(args: string[], ctx: Context): Promise<number | undefined> | Promise<void>;
}

/** Every CLI command, registered in one place. */
export const COMMANDS: Record<string, Command> = {
  init: { summary: "create and migrate the database; activate the default rules", run: initCommand },
  import: { summary: "import customers|touches|nps|purchases FILE.csv [--skip-invalid]", run: importCommand },
  touch: { summary: "log a touch: <customer> [kind] [date] [note…]", run: touchCommand },
  sweep: { summary: "evaluate the rules now and deliver nudges [--dry-run] [--json]", run: sweepCommand },
  rules: { summary: "validate|diff|preview|backtest|apply FILE, history, rollback VERSION, export, schema", run: rulesCommand },
  worker: { summary: "run sweeps on KEEPWARM_SCHEDULE until stopped", run: workerCommand },
  demo: { summary: "build a demo data set, sweep it and show the nudges", run: demoCommand },
  stats: { summary: "KPIs, nudge funnel and holdout comparison [--since DATE] [--segment S] [--json]", run: statsCommand },
  report: { summary: "write a self-contained HTML report with charts: --out FILE.html [--since DATE]", run: reportCommand },
  doctor: { summary: "check configuration, database, rules, last sweep and delivery", run: doctorCommand },
  bot: { summary: "run the Slack bot (HTTP on PORT, or Socket Mode with SLACK_APP_TOKEN)", run: botCommand },
  start: { summary: "run the Slack bot and the worker in one process [--run-now]", run: startCommand },
};
