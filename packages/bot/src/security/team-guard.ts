import type { AnyMiddlewareArgs, Middleware } from "@slack/bolt";

/** The workspace a request comes from, wherever its payload kind puts it. */
export function requestTeamId(body: unknown): string | undefined {
  const b = body as {
    team_id?: unknown;
    team?: { id?: unknown } | null;
    user?: { team_id?: unknown } | null;
    view?: { team_id?: unknown } | null;
  };
  for (const candidate of [b?.team_id, b?.team?.id, b?.view?.team_id, b?.user?.team_id]) {
    if (typeof candidate === "string" && candidate !== "") return candidate;
  }
  return undefined;
}

/**
 * Only the installed workspace may act: a request signed for this app but coming from
 * another team (or naming none) is acknowledged and ignored.
 */
export function teamGuard(installedTeam: () => Promise<string | undefined>, warn: (message: string) => void): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const team = requestTeamId(args.body);
    const installed = await installedTeam();
    if (installed !== undefined && team === installed) {
      await args.next();
      return;
    }
    warn(`ignored a request from team ${team ?? "(none)"}: this app is installed in ${installed ?? "(unknown)"}`);
    const ack = (args as { ack?: (response?: unknown) => Promise<void> }).ack;
    if (ack === undefined) return;
    if ("command" in args) await ack({ response_type: "ephemeral", text: "keepwarm is not installed in this workspace." });
    else if ("options" in args) await ack({ options: [] });
    else await ack();
  };
}
