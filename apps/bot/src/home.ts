import type { webApi } from "@slack/bolt";
import { homeView } from "./blocks/home-view";
import type { BotDeps } from "./deps";
import { openNudgesOf, quietCustomers } from "./queries";

const HOME_NUDGES = 14;

export async function publishHome(client: webApi.WebClient, deps: BotDeps, userId: string): Promise<void> {
  const now = deps.now();
  const nudges = openNudgesOf(deps.store, userId, 1000);
  const view = homeView(nudges.slice(0, HOME_NUDGES), quietCustomers(deps.store, userId, now, 10), nudges.length);
  await client.views.publish({ user_id: userId, view });
}
