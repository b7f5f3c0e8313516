import { consoleDeliveryConfig, deliverToConsole } from "@keepwarm/core";
import type { Store } from "@keepwarm/store";
import type { Context } from "./context";

/** Console delivery with the configured fallback channel, digest threshold, budget and escalation routes. */
export function printNudges(store: Store, ctx: Context, now?: number): ReturnType<typeof deliverToConsole> {
  return deliverToConsole(store, { ...consoleDeliveryConfig(ctx.env, ctx.calendar), write: ctx.out, ...(now === undefined ? {} : { now }) });
}
