import {
  computeStats,
  customerHealth,
  DEFAULT_STATS_DAYS,
  defaultStatsPeriod,
  getActiveRuleSet,
  getRuleSetVersion,
  healthLines,
  lookupCustomer,
  noiseStats,
} from "@keepwarm/core";
import { type Customer, knownSegments, liveNudgesOfCustomer, npsHistory, ownsCustomers, recentTouches } from "@keepwarm/store";
import type { App, types } from "@slack/bolt";
import { rulesEditModal, splitRuleText } from "../../blocks/modals";
import { noiseFlagLines, statsMessage } from "../../blocks/stats-view";
import type { BotDeps } from "../../deps";
import { openModalOrTell } from "../open-modal";
import { basicStats, QUIET_DAYS, quietCustomers } from "../../queries";
import { isStranger, readingViewerOf, STRANGER_TEXT, seesAll, type Viewer, visibleLookup } from "../../security/access";
import { clip, days, escapeMrkdwn, mention, plainCommandText, slackStateLine } from "../../slack-text";

export const KEEPWARM_USAGE = [
  "*keepwarm*",
  "• `/keepwarm quiet`: your customers with no touch in 30+ days",
  "• `/keepwarm customer &lt;name or id&gt;`: owner, last touches, NPS, health score, open nudges",
  "• `/keepwarm stats [segment]`: your numbers, NPS, retention, the nudge funnel and whether the nudges work (holdouts)",
  "• `/keepwarm rules`: the active rules; admins: `/keepwarm rules edit`",
  "• `/touch &lt;customer&gt; [kind] [date] [note…]`: log a touch",
].join("\n");

export const isAdmin = (deps: BotDeps, user: string): boolean => deps.env.KEEPWARM_ADMINS.includes(user);

const ago = (now: number, at: number) => {
  const n = Math.floor((now - at) / 86_400_000);
  return n <= 0 ? "today" : n === 1 ? "yesterday" : `${days(n)} ago`;
};

const QUIET_SHOWN = 15;

/** The quiet customers the viewer may see: an admin or reader all, a lead their team's and their own, a rep their own. */
async function quiet(deps: BotDeps, viewer: Viewer): Promise<string> {
  if (await isStranger(deps.store, viewer)) return STRANGER_TEXT;
  const now = deps.now();
  const parts = seesAll(viewer)
    ? [await quietCustomers(deps.store, null, now, deps.calendar, QUIET_SHOWN)]
    : await Promise.all([...viewer.owners].map((o) => quietCustomers(deps.store, o, now, deps.calendar, QUIET_SHOWN)));
  const total = parts.reduce((sum, p) => sum + p.total, 0);
  const rows = parts
    .flatMap((p) => p.rows)
    .sort((a, b) => (a.lastTouchAt ?? -1) - (b.lastTouchAt ?? -1) || a.name.localeCompare(b.name))
    .slice(0, QUIET_SHOWN);
  const whose = seesAll(viewer) ? "All" : viewer.lead ? "Your team's" : "Your";
  if (total === 0) return `None of ${whose === "All" ? "the" : whose.toLowerCase()} customers has gone ${QUIET_DAYS}+ days without a touch. :tada:`;
  const lines = rows.map((c) => `• *${escapeMrkdwn(c.name)}* (${escapeMrkdwn(c.externalId)}): ${c.daysQuiet === null ? "never touched" : days(c.daysQuiet)}`);
  return `*${whose} quiet customers* (${total}, no touch in ${QUIET_DAYS}+ days):\n${lines.join("\n")}${total > rows.length ? `\n…and ${total - rows.length} more` : ""}`;
}

async function customerSummary(deps: BotDeps, viewer: Viewer, query: string): Promise<string> {
  if (query === "") return "Usage: `/keepwarm customer &lt;name or id&gt;`";
  if (await isStranger(deps.store, viewer)) return STRANGER_TEXT;
  const lookup = visibleLookup(viewer, await lookupCustomer(deps.store, query, seesAll(viewer) ? 5 : 50));
  if (lookup.kind === "ambiguous")
    return `"${escapeMrkdwn(clip(query, 100))}" matches several customers:\n${lookup.candidates.map((c) => `• ${escapeMrkdwn(c.name)} (${escapeMrkdwn(c.external_id)})`).join("\n")}`;
  if (lookup.kind === "none") {
    const s = lookup.suggestions.map((c) => `• ${escapeMrkdwn(c.name)} (${escapeMrkdwn(c.external_id)})`).join("\n");
    return `No customer matches "${escapeMrkdwn(clip(query, 100))}".${s ? `\nDid you mean:\n${s}` : ""}`;
  }
  const c: Customer = lookup.customer;
  const now = deps.now();
  const touches = await recentTouches(deps.store.db, c.id, 3);
  const nps = await npsHistory(deps.store.db, c.id, 2);
  const nudges = await liveNudgesOfCustomer(deps.store.db, c.id);
  // The health score of the active rules' health block, with its breakdown and what moved it.
  const active = await getActiveRuleSet(deps.store);
  const health = active === undefined ? undefined : (await customerHealth(deps.store, active.ruleFile, { now, calendar: deps.calendar }, [c.id]))?.[0];
  const lines = [
    `*${escapeMrkdwn(c.name)}* (${escapeMrkdwn(c.external_id)})`,
    `Owner: ${c.owner_slack_id ? mention(c.owner_slack_id) : "none"}  ·  Segment: ${escapeMrkdwn(c.segment ?? "—")}  ·  Stage: ${escapeMrkdwn(c.lifecycle_stage ?? "—")}  ·  Tier: ${escapeMrkdwn(c.tier ?? "—")}`,
    `NPS: ${nps.length === 0 ? "no responses" : nps.map((r) => `${r.score} (${deps.calendar.isoDate(r.respondedAt)})`).join(" ← ")}`,
    ...(health === undefined ? [] : healthLines(health).map(escapeMrkdwn)),
    touches.length === 0
      ? "Touches: none yet"
      : `Last touches:\n${touches.map((t) => `• ${t.kind} ${ago(now, t.occurredAt)}${t.loggedBy ? ` by ${mention(t.loggedBy)}` : ""}${t.note ? `: ${escapeMrkdwn(clip(t.note, 120))}` : ""}`).join("\n")}`,
    nudges.length === 0 ? "Open nudges: none" : `Open nudges:\n${nudges.map((n) => `• ${escapeMrkdwn(n.explanation)} (${slackStateLine(n)})`).join("\n")}`,
  ];
  return lines.join("\n");
}

/** `/keepwarm stats [segment]`: today's numbers and the KPIs of the last DEFAULT_STATS_DAYS days. */
async function stats(deps: BotDeps, viewer: Viewer, segmentArg: string): Promise<string | { text: string; blocks: types.KnownBlock[] }> {
  if (await isStranger(deps.store, viewer)) return STRANGER_TEXT;
  const user = viewer.user;
  const segment = segmentArg === "" ? undefined : segmentArg;
  if (segment !== undefined) {
    const known = await knownSegments(deps.store.db);
    if (!known.includes(segment))
      return `Unknown segment "${escapeMrkdwn(clip(segment, 60))}"; ${known.length === 0 ? "no customer has a segment" : `segments: ${known.map(escapeMrkdwn).join(", ")}`}.`;
  }
  const now = deps.now();
  const mine = await ownsCustomers(deps.store.db, user);
  const basic = await basicStats(deps.store, now, deps.calendar, mine ? user : null);
  const kpis = await computeStats(deps.store, defaultStatsPeriod(now, deps.calendar, segment));
  return statsMessage(kpis, { stats: basic, mine }, (ms) => deps.calendar.isoDate(ms));
}

async function rulesSummary(deps: BotDeps): Promise<string> {
  const active = await getActiveRuleSet(deps.store);
  if (active === undefined) return "No rules are active yet (they are activated on the first sweep).";
  const row = await getRuleSetVersion(deps.store, active.version);
  if (row === undefined) return "No rules are active yet (they are activated on the first sweep).";
  const rules = active.ruleFile.rules.map(
    (r) => `• ${r.enabled ? ":large_green_circle:" : ":white_circle:"} \`${escapeMrkdwn(r.id)}\` ${escapeMrkdwn(r.name)}`,
  );
  const now = deps.now();
  const period = defaultStatsPeriod(now, deps.calendar);
  const noise = await noiseStats(deps.store, period);
  return `*Rules v${active.version}* by ${mention(row.author)} on ${deps.calendar.isoDate(row.createdAt)}: ${active.ruleFile.rules.filter((r) => r.enabled).length} of ${active.ruleFile.rules.length} enabled\n${rules.join("\n")}\n*Noise, last ${DEFAULT_STATS_DAYS} days*\n${noiseFlagLines(noise).join("\n")}`;
}

export function registerKeepwarmCommand(app: App, deps: BotDeps): void {
  app.command("/keepwarm", async ({ command, ack, respond, client }) => {
    await ack();
    const text = plainCommandText(typeof command.text === "string" ? command.text : "").trim();
    const [sub = "help", ...rest] = text.split(/\s+/);
    const arg = rest.join(" ").trim();
    const user = command.user_id;
    let answer: string | { text: string; blocks: types.KnownBlock[] };
    try {
      switch (sub.toLowerCase()) {
        case "":
        case "help":
          answer = KEEPWARM_USAGE;
          break;
        case "quiet":
          answer = await quiet(deps, await readingViewerOf(deps, user));
          break;
        case "customer":
          answer = text.length > 500 ? "That name is too long." : await customerSummary(deps, await readingViewerOf(deps, user), arg);
          break;
        case "stats":
          answer = await stats(deps, await readingViewerOf(deps, user), arg);
          break;
        case "rules":
          if (arg.toLowerCase() === "edit") {
            if (!isAdmin(deps, user)) {
              answer = "Sorry, only keepwarm admins (KEEPWARM_ADMINS) can edit rules. `/keepwarm rules` shows the active ones.";
              break;
            }
            const active = await getActiveRuleSet(deps.store);
            if (active === undefined) {
              answer = "No rules are active yet; run a sweep first.";
              break;
            }
            const parts = splitRuleText(JSON.stringify(JSON.parse(active.json), null, 2));
            if (parts === undefined) {
              answer = "The rule file is too large to edit in Slack; use `keepwarm rules apply FILE`.";
              break;
            }
            await openModalOrTell(client, deps, command.trigger_id, rulesEditModal({ version: active.version, parts }), (text) =>
              respond({ response_type: "ephemeral", text }),
            );
            return;
          }
          answer = await rulesSummary(deps);
          break;
        default:
          answer = `Unknown subcommand "${escapeMrkdwn(clip(sub, 40))}".\n${KEEPWARM_USAGE}`;
      }
    } catch (error) {
      deps.logger.error(`/keepwarm ${sub} failed: ${(error as Error).message}`);
      answer = ":warning: Something went wrong; try again.";
    }
    await respond(
      typeof answer === "string"
        ? { response_type: "ephemeral", text: clip(answer, 3900) }
        : { response_type: "ephemeral", text: clip(answer.text, 3900), blocks: answer.blocks },
    );
  });
}
