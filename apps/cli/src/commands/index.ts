import type { Context } from "../context";

export interface Command {
  summary: string;
  run(args: string[], ctx: Context): Promise<number | undefined>;
}

type Run = (args: string[], ctx: Context) => Promise<number | undefined>;

/** Each command's module is loaded only when it runs: `keepwarm touch` need not load Bolt. */
const lazy =
  (load: () => Promise<Run>): Run =>
  async (args, ctx) =>
    (await load())(args, ctx);

/** Every CLI command, registered in one place. */
export const COMMANDS: Record<string, Command> = {
  init: { summary: "create and migrate the database; activate the default rules", run: lazy(async () => (await import("./init")).initCommand) },
  import: {
    summary: "import customers|touches|nps|purchases FILE.csv [--map …] [--mapping …] [--date-format …] [--dry-run] [--skip-invalid]",
    run: lazy(async () => (await import("./import")).importCommand),
  },
  owners: {
    summary: "sync: resolve owners imported as emails or names into Slack members (users.lookupByEmail)",
    run: lazy(async () => (await import("./owners")).ownersCommand),
  },
  touch: { summary: "log a touch: <customer> [kind] [date] [note…]", run: lazy(async () => (await import("./touch")).touchCommand) },
  sweep: { summary: "evaluate the rules now and deliver nudges [--dry-run] [--json]", run: lazy(async () => (await import("./sweep")).sweepCommand) },
  rules: {
    summary: "validate|diff|preview|backtest|apply FILE, history, rollback VERSION, export, schema, noise, suggest RULE",
    run: lazy(async () => (await import("./rules")).rulesCommand),
  },
  worker: { summary: "run sweeps on KEEPWARM_SCHEDULE until stopped", run: lazy(async () => (await import("./worker")).workerCommand) },
  demo: { summary: "build a demo data set, sweep it and show the nudges", run: lazy(async () => (await import("./demo")).demoCommand) },
  stats: {
    summary: "KPIs, nudge funnel and holdout comparison [--since DATE] [--segment S] [--json]",
    run: lazy(async () => (await import("./stats")).statsCommand),
  },
  health: {
    summary: "calibrate [--days 365] [--json]: how well the health score predicted churn in the following 90 days",
    run: lazy(async () => (await import("./health")).healthCommand),
  },
  report: {
    summary: "write a self-contained HTML report with charts: --out FILE.html [--since DATE]",
    run: lazy(async () => (await import("./report")).reportCommand),
  },
  db: {
    summary: "copy --to postgres://…: move this SQLite install into an empty PostgreSQL database",
    run: lazy(async () => (await import("./db")).dbCommand),
  },
  outbox: {
    summary: "list [--status failed] [--json] | retry <id…|--all-failed>: see and re-queue Slack deliveries",
    run: lazy(async () => (await import("./outbox")).outboxCommand),
  },
  doctor: { summary: "check configuration, database, rules, last sweep and delivery", run: lazy(async () => (await import("./doctor")).doctorCommand) },
  bot: { summary: "run the Slack bot (HTTP on PORT, or Socket Mode with SLACK_APP_TOKEN)", run: lazy(async () => (await import("./bot")).botCommand) },
  api: { summary: "run the HTTP API alone (no Slack): /api/v1 on PORT [--host H]", run: lazy(async () => (await import("./api")).apiCommand) },
  tokens: {
    summary: "API tokens: create --name NAME --scopes ingest,read,act | list | revoke NAME|ID",
    run: lazy(async () => (await import("./tokens")).tokensCommand),
  },
  start: { summary: "run the Slack bot and the worker in one process [--run-now]", run: lazy(async () => (await import("./start")).startCommand) },
};
