import { DEFAULT_STATS_DAYS, defaultStatsPeriod, npsStats, retentionStats } from "@keepwarm/core";
import { countWaitingNudges, openNudgesOf } from "@keepwarm/store";
import type { webApi } from "@slack/bolt";
import { homeView } from "./blocks/home-view";
import type { BotDeps } from "./deps";
import { preferenceBlocks } from "./preferences-home";
import { basicStats, quietCustomers } from "./queries";

const HOME_NUDGES = 14;

export async function publishHome(client: webApi.WebClient, deps: BotDeps, userId: string): Promise<void> {
  const now = deps.now();
  const nudges = await openNudgesOf(deps.store.db, userId, 1000);
  // The team's NPS and retention: two bulk statements, cheap enough for every Home open.
  const period = defaultStatsPeriod(now, deps.calendar);
  const view = homeView(nudges.slice(0, HOME_NUDGES), await quietCustomers(deps.store, userId, now, deps.calendar, 10), nudges.length, {
    waiting: await countWaitingNudges(deps.store.db, userId),
    maxPerDay: deps.env.KEEPWARM_MAX_NUDGES_PER_DAY,
    kpis: {
      mine: await basicStats(deps.store, now, deps.calendar, userId),
      nps: await npsStats(deps.store, period),
      retention: (await retentionStats(deps.store, period)).total,
      days: DEFAULT_STATS_DAYS,
    },
  });
  // Before the last line (how to log a touch), which stays at the bottom.
  const last = view.blocks.length - 1;
  view.blocks = [...view.blocks.slice(0, last), ...(await preferenceBlocks(client, deps, userId)), ...view.blocks.slice(last)];
  await client.views.publish({ user_id: userId, view });
}
