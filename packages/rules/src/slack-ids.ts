/**
 * A Slack user id, as keepwarm accepts it everywhere (CSV owners, KEEPWARM_MANAGERS,
 * rule `escalateTo`, mentions in Slack messages): `U` or `W`, then 2–30 upper-case
 * letters or digits, e.g. `U0123ABCD`. One definition, so "valid owner" means the same
 * at import, in configuration and where a mention `<@…>` is built.
 */
export const SLACK_USER_ID_SOURCE = "[UW][A-Z0-9]{2,30}";
export const SLACK_USER_ID = new RegExp(`^${SLACK_USER_ID_SOURCE}$`);

export const isSlackUserId = (value: string | null | undefined): boolean => typeof value === "string" && SLACK_USER_ID.test(value);
