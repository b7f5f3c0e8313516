/**
 * Every keepwarm command, declared here and nowhere else: `--help`, did-you-mean and
 * option checking are generated from these declarations (citty's `args`).
 *
 * Adding a command:
 *   1. declare its args below as `export const fooArgs = { … } as const satisfies ArgsDef`,
 *      spreading the shared groups (`...jsonArg`, `...asOfArg`, `...dbArg`) it takes;
 *   2. implement it in commands/foo.ts as
 *      `export const fooCommand: Run<typeof fooArgs> = async (args, ctx) => { … return 0; }`
 *      (options arrive parsed: `args.json`, `args["as-of"]`; positionals by name, extra words in `args._`);
 *   3. register it in COMMANDS with `command({ name, description, args: fooArgs, load: async () => (await import("./foo")).fooCommand })`,
 *      or as a subcommand inside a `group(…)`.
 * Keep this file free of value imports from @keepwarm/*: it is loaded for every `--help`.
 * The walk in test/help.test.ts checks every command's help lists its options.
 */
import type { ArgsDef } from "citty";
import { asOfArg, command, dbArg, group, jsonArg, type KeepwarmCommand, periodArgs } from "../command";

const IMPORT_KINDS = "customers|touches|nps|purchases";
const fileArg = (what: string) => ({ file: { type: "positional", required: true, description: what } }) as const satisfies ArgsDef;
const authorArg = { author: { type: "string", valueHint: "NAME", description: "who made the change (default: $USER)" } } as const satisfies ArgsDef;
const sampleArg = {
  sample: { type: "string", valueHint: "N", description: "how many example customers per rule (0–1000, default 5)" },
} as const satisfies ArgsDef;

export const initArgs = { ...dbArg } as const satisfies ArgsDef;
export const importArgs = {
  kind: { type: "positional", required: true, valueHint: IMPORT_KINDS, description: "what the file holds" },
  file: { type: "positional", required: true, description: "the CSV file" },
  "skip-invalid": { type: "boolean", description: "import the valid rows and report the invalid ones (default: import nothing if any row is invalid)" },
  map: { type: "string", valueHint: "Header=column,…", description: "which file column is which keepwarm column (wins over --mapping); see docs/import.md" },
  mapping: { type: "string", valueHint: "FILE.json|NAME", description: "a column mapping file, or a shipped one: hubspot-companies, salesforce-accounts" },
  "date-format": {
    type: "string",
    valueHint: "iso|day-first|month-first",
    description: "day/month dates: 20/11/2026 is day-first, 11/20/2026 month-first (default iso: they are refused)",
  },
  "dry-run": { type: "boolean", description: "read and check every row, say what would change, write nothing" },
  ...jsonArg,
  ...dbArg,
} as const satisfies ArgsDef;
export const ownersSyncArgs = { ...jsonArg, ...dbArg } as const satisfies ArgsDef;
export const touchArgs = {
  customer: {
    type: "positional",
    required: false,
    valueHint: "CUSTOMER",
    description: "id or name, then optionally a kind (call, email, meeting, …), a date (today|yesterday|YYYY-MM-DD) and a note",
  },
  by: { type: "string", valueHint: "U123", description: "who made the touch (default: $USER)" },
  ...jsonArg,
  ...dbArg,
} as const satisfies ArgsDef;
export const sweepArgs = {
  "dry-run": { type: "boolean", description: "show what would be nudged; write nothing" },
  engine: { type: "string", valueHint: "compiled|reference", description: "rule evaluator (default compiled; reference = json-rules-engine)" },
  ...asOfArg,
  ...jsonArg,
  ...dbArg,
} as const satisfies ArgsDef;
export const rulesValidateArgs = { ...fileArg("the rule file (JSON)"), ...jsonArg, ...dbArg } as const satisfies ArgsDef;
export const rulesDiffArgs = { ...fileArg("the candidate rule file"), ...jsonArg, ...dbArg } as const satisfies ArgsDef;
export const rulesApplyArgs = {
  ...fileArg("the rule file to activate"),
  ...authorArg,
  note: { type: "string", valueHint: "TEXT", description: "why, kept in the history" },
  ...jsonArg,
  ...dbArg,
} as const satisfies ArgsDef;
export const rulesPreviewArgs = { ...fileArg("the candidate rule file"), ...sampleArg, ...asOfArg, ...jsonArg, ...dbArg } as const satisfies ArgsDef;
export const rulesBacktestArgs = {
  ...fileArg("the candidate rule file"),
  days: { type: "string", required: true, valueHint: "N", description: "how many past days to replay" },
  ...sampleArg,
  ...asOfArg,
  ...jsonArg,
  ...dbArg,
} as const satisfies ArgsDef;
export const rulesHistoryArgs = { ...jsonArg, ...dbArg } as const satisfies ArgsDef;
export const rulesRollbackArgs = {
  version: { type: "positional", required: true, description: "the version to make active again (a number from rules history)" },
  ...authorArg,
  ...jsonArg,
  ...dbArg,
} as const satisfies ArgsDef;
export const rulesExportArgs = {
  version: { type: "string", valueHint: "N", description: "which version (default: the active one)" },
  out: { type: "string", valueHint: "FILE", description: "write to this file instead of stdout" },
  ...dbArg,
} as const satisfies ArgsDef;
export const rulesNoiseArgs = { ...periodArgs, ...jsonArg, ...dbArg } as const satisfies ArgsDef;
export const rulesSuggestArgs = {
  rule: { type: "positional", required: true, description: "the id of the active rule to make stricter" },
  out: { type: "string", valueHint: "FILE", description: "write the proposal as a rule file (for rules diff, preview, apply)" },
  days: { type: "string", valueHint: "N", description: "how many past days to backtest (1–365, default 90)" },
  value: { type: "string", valueHint: "N", description: "backtest this threshold value instead of the generated steps" },
  condition: { type: "string", valueHint: "PATH", description: "which threshold, by its path in the rule, e.g. conditions.all[1] (default: the rule's first)" },
  ...asOfArg,
  ...jsonArg,
  ...dbArg,
} as const satisfies ArgsDef;
export const workerArgs = { "run-now": { type: "boolean", description: "sweep once at start, then on the schedule" }, ...dbArg } as const satisfies ArgsDef;
export const demoArgs = {
  reset: { type: "boolean", description: "throw the demo data away and generate it again" },
  customers: { type: "string", valueHint: "N", description: "how many demo customers (10–100000, default 300)" },
  verbose: { type: "boolean", description: "print every nudge and digest, not only a few" },
  ...dbArg,
} as const satisfies ArgsDef;
export const statsArgs = { ...periodArgs, ...jsonArg, ...dbArg } as const satisfies ArgsDef;
export const healthCalibrateArgs = {
  days: { type: "string", valueHint: "N", description: "how many days back to look (default 365)" },
  every: { type: "string", valueHint: "DAYS", description: "days between snapshots (1–90, default 7)" },
  file: { type: "string", valueHint: "RULES.json", description: "score with this rule file's health bands instead of the active rules'" },
  resamples: { type: "string", valueHint: "N", description: "bootstrap resamples for the intervals (0–10000, default 200)" },
  seed: { type: "string", valueHint: "N", description: "bootstrap seed (default 1)" },
  ...asOfArg,
  ...jsonArg,
  ...dbArg,
} as const satisfies ArgsDef;
export const reportArgs = {
  out: { type: "string", required: true, valueHint: "FILE.html", description: "where to write the report" },
  ...periodArgs,
  calibrate: { type: "boolean", description: "add the health score's calibration chart (churn per grade over the last 365 days)" },
  ...dbArg,
} as const satisfies ArgsDef;
export const dbCopyArgs = {
  to: { type: "string", required: true, valueHint: "postgres://USER:PASSWORD@HOST:PORT/DATABASE", description: "an empty PostgreSQL database" },
  ...dbArg,
} as const satisfies ArgsDef;
export const dbBackupArgs = { ...fileArg("where to write the copy (must not exist)"), ...dbArg } as const satisfies ArgsDef;
export const outboxListArgs = {
  status: { type: "string", valueHint: "pending|held|done|failed|skipped", description: "only items with this status" },
  limit: { type: "string", valueHint: "N", description: "at most this many items, newest first (1–100000, default 50)" },
  ...jsonArg,
  ...dbArg,
} as const satisfies ArgsDef;
export const outboxRetryArgs = {
  ids: { type: "positional", required: false, valueHint: "ID…", description: "the failed outbox items to re-queue (#12 or 12)" },
  "all-failed": { type: "boolean", description: "re-queue every failed item" },
  ...dbArg,
} as const satisfies ArgsDef;
export const doctorArgs = { ...dbArg } as const satisfies ArgsDef;
export const botArgs = { ...dbArg } as const satisfies ArgsDef;
export const apiArgs = {
  host: { type: "string", valueHint: "ADDRESS", description: "listen on this address only, e.g. 127.0.0.1 (default: every address)" },
  ...dbArg,
} as const satisfies ArgsDef;
export const tokensCreateArgs = {
  name: { type: "string", required: true, valueHint: "NAME", description: 'what the token is for (1–64 letters, digits, ".", "_" or "-"), unique' },
  scopes: { type: "string", required: true, valueHint: "ingest,read,act", description: "what it may do: ingest data, read, act on nudges (comma-separated)" },
  ...jsonArg,
  ...dbArg,
} as const satisfies ArgsDef;
export const tokensListArgs = { ...jsonArg, ...dbArg } as const satisfies ArgsDef;
export const tokensRevokeArgs = {
  token: { type: "positional", required: true, valueHint: "NAME|ID", description: "the token's name or id (from keepwarm tokens list)" },
  ...dbArg,
} as const satisfies ArgsDef;
export const completionArgs = {
  shell: { type: "positional", required: true, valueHint: "bash|zsh|fish", description: "the shell to complete in" },
} as const satisfies ArgsDef;
export const prefsShowArgs = {
  user: { type: "string", valueHint: "U123[,U456]", description: "only these reps (default: every rep with preferences)" },
  ...jsonArg,
  ...dbArg,
} as const satisfies ArgsDef;
export const prefsSetArgs = {
  user: { type: "string", required: true, valueHint: "U123", description: "the rep whose preferences to set" },
  rule: { type: "string", valueHint: "RULE=dm|digest|off,…", description: "how the rep gets a rule's nudges (off only where the rule has allowMute)" },
  quiet: { type: "string", valueHint: "FROM-TO|none", description: "quiet hours in the rep's time zone, whole hours, e.g. 22-7" },
  "quiet-days": { type: "string", valueHint: "sat,sun|none", description: "weekdays quiet all day" },
  cap: { type: "string", valueHint: "N|team", description: "nudges by DM a day, 0 up to KEEPWARM_MAX_NUDGES_PER_DAY (team: the team's)" },
  "digest-hour": { type: "string", valueHint: "H", description: "local hour of the rep's daily digest (0–23, default 9)" },
  by: { type: "string", valueHint: "NAME", description: "who made the change (default: $USER)" },
  ...jsonArg,
  ...dbArg,
} as const satisfies ArgsDef;
export const webhooksAddArgs = {
  url: { type: "positional", required: true, valueHint: "URL", description: "where to POST events: an https:// (or http://) URL; redirects are not followed" },
  events: {
    type: "string",
    required: true,
    valueHint: "nudge.created,…",
    description:
      "what to send (comma-separated): nudge.created, nudge.delivered, nudge.resolved, nudge.snoozed, nudge.dismissed, nudge.expired, nudge.escalated, nudge.claimed, touch.created",
  },
  ...jsonArg,
  ...dbArg,
} as const satisfies ArgsDef;
export const webhooksListArgs = { ...jsonArg, ...dbArg } as const satisfies ArgsDef;
const webhookIdArg = {
  id: { type: "positional", required: true, valueHint: "ID", description: "the webhook's id (from keepwarm webhooks list)" },
} as const satisfies ArgsDef;
export const webhooksRemoveArgs = { ...webhookIdArg, ...dbArg } as const satisfies ArgsDef;
export const webhooksTestArgs = { ...webhookIdArg, ...dbArg } as const satisfies ArgsDef;
export const webhooksLogArgs = {
  webhook: { type: "string", valueHint: "ID", description: "only this webhook's deliveries" },
  failed: { type: "boolean", description: "only deliveries that used every attempt (retry them with keepwarm webhooks retry)" },
  limit: { type: "string", valueHint: "N", description: "at most this many deliveries, newest first (1–100000, default 50)" },
  ...jsonArg,
  ...dbArg,
} as const satisfies ArgsDef;
export const webhooksRetryArgs = {
  ids: { type: "positional", required: false, valueHint: "ID…", description: "the failed deliveries to send again (ids from keepwarm webhooks log)" },
  "all-failed": { type: "boolean", description: "send every failed delivery again" },
  ...dbArg,
} as const satisfies ArgsDef;
export const startArgs = { "run-now": { type: "boolean", description: "sweep once at start, then on the schedule" }, ...dbArg } as const satisfies ArgsDef;

const rules = group({
  name: "rules",
  description: "check, try, apply, roll back and tune rule files",
  subCommands: {
    validate: command({
      name: "validate",
      description: "check a rule file against the schema and the fact catalog",
      args: rulesValidateArgs,
      load: async () => (await import("./rules")).rulesValidateCommand,
    }),
    diff: command({
      name: "diff",
      description: "what a rule file changes against the active rules",
      args: rulesDiffArgs,
      load: async () => (await import("./rules-review")).rulesDiffCommand,
    }),
    preview: command({
      name: "preview",
      description: "who a rule file would nudge today, against the active rules; writes nothing",
      args: rulesPreviewArgs,
      load: async () => (await import("./rules-try")).rulesPreviewCommand,
    }),
    backtest: command({
      name: "backtest",
      description: "replay a rule file over past days: what it would have nudged and what followed; writes nothing",
      args: rulesBacktestArgs,
      load: async () => (await import("./rules-try")).rulesBacktestCommand,
    }),
    apply: command({
      name: "apply",
      description: "validate a rule file and make it the active rules (a new version)",
      args: rulesApplyArgs,
      load: async () => (await import("./rules")).rulesApplyCommand,
    }),
    history: command({
      name: "history",
      description: "every rules version, who applied it and when",
      args: rulesHistoryArgs,
      load: async () => (await import("./rules-review")).rulesHistoryCommand,
    }),
    rollback: command({
      name: "rollback",
      description: "make an earlier version's rules active again (as a new version)",
      args: rulesRollbackArgs,
      load: async () => (await import("./rules-review")).rulesRollbackCommand,
    }),
    export: command({
      name: "export",
      description: "print a stored rules version as a rule file",
      args: rulesExportArgs,
      load: async () => (await import("./rules-review")).rulesExportCommand,
    }),
    schema: command({
      name: "schema",
      description: "print the rule file's JSON Schema",
      load: async () => (await import("./rules-review")).rulesSchemaCommand,
    }),
    noise: command({
      name: "noise",
      description: "per rule: how many nudges were noise (dismissed, snoozed again, expired, touched anyway); mostly-noise rules flagged",
      args: rulesNoiseArgs,
      load: async () => (await import("./rules-noise")).rulesNoiseCommand,
    }),
    suggest: command({
      name: "suggest",
      description: "stricter thresholds for a noisy rule, backtested against the rule as it is; writes nothing but --out",
      args: rulesSuggestArgs,
      load: async () => (await import("./rules-noise")).rulesSuggestCommand,
    }),
  },
});

/** Every CLI command, registered in one place. */
export const COMMANDS: Record<string, KeepwarmCommand> = {
  init: command({
    name: "init",
    description: "create and migrate the database; activate the default rules",
    args: initArgs,
    load: async () => (await import("./init")).initCommand,
  }),
  import: command({
    name: "import",
    description: "import customers, touches, NPS answers or purchases from a CSV file",
    args: importArgs,
    load: async () => (await import("./import")).importCommand,
  }),
  owners: group({
    name: "owners",
    description: "customer owners imported as emails or names",
    subCommands: {
      sync: command({
        name: "sync",
        description: "resolve owners imported as emails or names into Slack members (users.lookupByEmail); needs SLACK_BOT_TOKEN",
        args: ownersSyncArgs,
        load: async () => (await import("./owners")).ownersSyncCommand,
      }),
    },
  }),
  touch: command({
    name: "touch",
    description: "log a touch with a customer (resolves its open nudges)",
    args: touchArgs,
    variadic: true,
    notes: ['example: keepwarm touch C-0001 call today "checked in"'],
    load: async () => (await import("./touch")).touchCommand,
  }),
  sweep: command({
    name: "sweep",
    description: "evaluate the rules now and deliver the nudges",
    args: sweepArgs,
    load: async () => (await import("./sweep")).sweepCommand,
  }),
  rules,
  worker: command({
    name: "worker",
    description: "sweep on KEEPWARM_SCHEDULE until stopped",
    args: workerArgs,
    load: async () => (await import("./worker")).workerCommand,
  }),
  demo: command({
    name: "demo",
    description: "build a demo data set, sweep it with the default rules and summarise the nudges",
    args: demoArgs,
    load: async () => (await import("./demo")).demoCommand,
  }),
  stats: command({
    name: "stats",
    description: "KPIs, nudge funnel and holdout comparison",
    args: statsArgs,
    load: async () => (await import("./stats")).statsCommand,
  }),
  health: group({
    name: "health",
    description: "the health score",
    subCommands: {
      calibrate: command({
        name: "calibrate",
        description: "how well the health score predicted churn in the following 90 days",
        args: healthCalibrateArgs,
        load: async () => (await import("./health")).healthCalibrateCommand,
      }),
    },
  }),
  report: command({
    name: "report",
    description: "write a self-contained HTML report with charts",
    args: reportArgs,
    load: async () => (await import("./report")).reportCommand,
  }),
  db: group({
    name: "db",
    description: "move or back up the database",
    subCommands: {
      copy: command({
        name: "copy",
        description: "move this SQLite install into an empty PostgreSQL database",
        args: dbCopyArgs,
        load: async () => (await import("./db")).dbCopyCommand,
      }),
      backup: command({
        name: "backup",
        description: "copy the SQLite database to FILE while keepwarm runs (on PostgreSQL use pg_dump)",
        args: dbBackupArgs,
        load: async () => (await import("./db")).dbBackupCommand,
      }),
    },
  }),
  outbox: group({
    name: "outbox",
    description: "see Slack deliveries and re-queue failed ones",
    subCommands: {
      list: command({
        name: "list",
        description: "the outbox: each delivery's status, attempts and Slack's answer when it failed",
        args: outboxListArgs,
        load: async () => (await import("./outbox")).outboxListCommand,
      }),
      retry: command({
        name: "retry",
        description: "re-queue failed deliveries once the cause is fixed (give ids or --all-failed)",
        args: outboxRetryArgs,
        variadic: true,
        load: async () => (await import("./outbox")).outboxRetryCommand,
      }),
    },
  }),
  doctor: command({
    name: "doctor",
    description: "check configuration, database, disk, rules, last sweep and delivery; writes nothing",
    args: doctorArgs,
    load: async () => (await import("./doctor")).doctorCommand,
  }),
  bot: command({
    name: "bot",
    description: "run the Slack bot (HTTP on PORT, or Socket Mode with SLACK_APP_TOKEN)",
    args: botArgs,
    load: async () => (await import("./bot")).botCommand,
  }),
  api: command({
    name: "api",
    description: "run the HTTP API alone (no Slack): /api/v1 and /healthz on PORT",
    args: apiArgs,
    load: async () => (await import("./api")).apiCommand,
  }),
  tokens: group({
    name: "tokens",
    description: "API tokens: create, list and revoke them",
    subCommands: {
      create: command({
        name: "create",
        description: "create an API token: printed once on stdout, only its hash is stored",
        args: tokensCreateArgs,
        load: async () => (await import("./tokens")).tokensCreateCommand,
      }),
      list: command({
        name: "list",
        description: "every API token: id, name, scopes, created, last used, revoked (never the secret)",
        args: tokensListArgs,
        load: async () => (await import("./tokens")).tokensListCommand,
      }),
      revoke: command({
        name: "revoke",
        description: "revoke an API token: from then on its requests get 401",
        args: tokensRevokeArgs,
        load: async () => (await import("./tokens")).tokensRevokeCommand,
      }),
    },
  }),
  completion: command({
    name: "completion",
    description: "print the shell completion script (bash, zsh or fish) for commands and options",
    args: completionArgs,
    notes: ['bash: eval "$(keepwarm completion bash)" in ~/.bashrc; fish: keepwarm completion fish > ~/.config/fish/completions/keepwarm.fish'],
    load: async () => (await import("./completion")).completionCommand(COMMANDS),
  }),
  prefs: group({
    name: "prefs",
    description: "reps' delivery preferences (set in the App Home): rules by DM, digest or off, quiet hours, personal cap",
    subCommands: {
      show: command({
        name: "show",
        description: "each rep's preferences, as they set them in Slack",
        args: prefsShowArgs,
        load: async () => (await import("./prefs")).prefsShowCommand,
      }),
      set: command({
        name: "set",
        description: "set a rep's preferences for them (the same checks as the App Home form)",
        args: prefsSetArgs,
        load: async () => (await import("./prefs")).prefsSetCommand,
      }),
    },
  }),
  webhooks: group({
    name: "webhooks",
    description: "outbound webhooks: signed POSTs of nudge and touch events to other systems",
    subCommands: {
      add: command({
        name: "add",
        description: "add a webhook: its signing secret is printed once on stdout",
        args: webhooksAddArgs,
        load: async () => (await import("./webhooks")).webhooksAddCommand,
      }),
      list: command({
        name: "list",
        description: "every webhook: id, URL, events, created, removed (never the secret)",
        args: webhooksListArgs,
        load: async () => (await import("./webhooks")).webhooksListCommand,
      }),
      remove: command({
        name: "remove",
        description: "remove a webhook: nothing more is sent to it; its log stays",
        args: webhooksRemoveArgs,
        load: async () => (await import("./webhooks")).webhooksRemoveCommand,
      }),
      test: command({
        name: "test",
        description: "queue a webhook.ping event for one webhook (sent by the running bot, api, start or worker)",
        args: webhooksTestArgs,
        load: async () => (await import("./webhooks")).webhooksTestCommand,
      }),
      log: command({
        name: "log",
        description: "each delivery: event id and type, attempts, last HTTP status or error, next attempt, delivered at",
        args: webhooksLogArgs,
        load: async () => (await import("./webhooks")).webhooksLogCommand,
      }),
      retry: command({
        name: "retry",
        description: "send failed deliveries again, attempts starting over (give ids or --all-failed)",
        args: webhooksRetryArgs,
        variadic: true,
        load: async () => (await import("./webhooks")).webhooksRetryCommand,
      }),
    },
  }),
  start: command({
    name: "start",
    description: "run the Slack bot and the worker in one process",
    args: startArgs,
    load: async () => (await import("./start")).startCommand,
  }),
};
