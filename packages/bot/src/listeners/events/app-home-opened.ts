import type { App } from "@slack/bolt";
import type { BotDeps } from "../../deps";
import { publishHome } from "../../home";

export function registerAppHomeOpened(app: App, deps: BotDeps): void {
  app.event("app_home_opened", async ({ event, client }) => {
    if (event.tab !== "home") return;
    await publishHome(client, deps, event.user);
  });
}
