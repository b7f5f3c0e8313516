export type Route = { kind: "dm"; user: string } | { kind: "channel"; channel: string } | { kind: "unrouted" };

/**
 * Where a nudge goes: the rule's channel, else the owner's DM, else the fallback
 * channel. Decided at delivery so an owner change made after planning still counts.
 */
export function routeNudge(destination: string, ownerSlackId: string | null, fallbackChannel: string | undefined): Route {
  if (destination !== "owner") return { kind: "channel", channel: destination.replace(/^#/, "") };
  if (ownerSlackId !== null) return { kind: "dm", user: ownerSlackId };
  if (fallbackChannel !== undefined) return { kind: "channel", channel: fallbackChannel.replace(/^#/, "") };
  return { kind: "unrouted" };
}

export const routeKey = (route: Route): string =>
  route.kind === "dm" ? `dm:${route.user}` : route.kind === "channel" ? `channel:${route.channel}` : "unrouted";
