import type { Customer } from "@keepwarm/store";
import { TOUCH_KINDS } from "@keepwarm/store";
import type { types } from "@slack/bolt";
import { plainText } from "../slack-text";

type ModalView = types.ModalView;
type PlainTextOption = types.PlainTextOption;

export const VIEW = { touch: "touch_modal", dismiss: "dismiss_modal", rulesEdit: "rules_edit_modal" } as const;
export const CUSTOMER_SEARCH = "customer_search";

export const customerOption = (c: Pick<Customer, "id" | "name" | "external_id">): PlainTextOption => ({
  text: plainText(`${c.name} (${c.external_id})`, 75),
  value: String(c.id),
});

const kindOption = (kind: string): PlainTextOption => ({ text: { type: "plain_text", text: kind }, value: kind });

/** Log a touch: customer (searchable), kind, date, note. */
export function touchModal(options: { customer?: Customer | undefined; today: string; metadata: string }): ModalView {
  return {
    type: "modal",
    callback_id: VIEW.touch,
    private_metadata: options.metadata,
    title: { type: "plain_text", text: "Log a touch" },
    submit: { type: "plain_text", text: "Log" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      {
        type: "input",
        block_id: "customer",
        label: { type: "plain_text", text: "Customer" },
        element: {
          type: "external_select",
          action_id: CUSTOMER_SEARCH,
          min_query_length: 1,
          placeholder: { type: "plain_text", text: "Search by name or id" },
          ...(options.customer ? { initial_option: customerOption(options.customer) } : {}),
        },
      },
      {
        type: "input",
        block_id: "kind",
        label: { type: "plain_text", text: "Kind" },
        element: { type: "static_select", action_id: "kind", options: TOUCH_KINDS.map(kindOption), initial_option: kindOption("call") },
      },
      {
        type: "input",
        block_id: "date",
        label: { type: "plain_text", text: "When" },
        element: { type: "datepicker", action_id: "date", initial_date: options.today },
      },
      {
        type: "input",
        block_id: "note",
        optional: true,
        label: { type: "plain_text", text: "Note" },
        element: { type: "plain_text_input", action_id: "note", multiline: true, max_length: 2000 },
      },
    ],
  };
}

export function dismissModal(options: { customerName: string; metadata: string }): ModalView {
  return {
    type: "modal",
    callback_id: VIEW.dismiss,
    private_metadata: options.metadata,
    title: { type: "plain_text", text: "Dismiss nudge" },
    submit: { type: "plain_text", text: "Dismiss" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      { type: "section", text: plainText(`Dismiss the nudge about ${options.customerName}?`, 2900) },
      {
        type: "input",
        block_id: "reason",
        optional: true,
        label: { type: "plain_text", text: "Reason (optional)" },
        element: { type: "plain_text_input", action_id: "reason", max_length: 500 },
      },
    ],
  };
}

/** Slack caps a text input at 3000 characters: a long rule file spans several inputs. */
export const RULES_PART_MAX = 3000;
export const RULES_MAX_PARTS = 20;

export function splitRuleText(text: string): string[] | undefined {
  const parts: string[] = [];
  let current = "";
  for (const line of text.split("\n")) {
    const piece = current === "" ? line : `\n${line}`;
    if (current.length + piece.length <= RULES_PART_MAX) {
      current += piece;
      continue;
    }
    if (current !== "") parts.push(current);
    if (line.length > RULES_PART_MAX) return undefined;
    current = line;
  }
  if (current !== "" || parts.length === 0) parts.push(current);
  return parts.length > RULES_MAX_PARTS ? undefined : parts;
}

export function rulesEditModal(options: { version: number; parts: string[]; note?: string }): ModalView {
  const n = options.parts.length;
  return {
    type: "modal",
    callback_id: VIEW.rulesEdit,
    private_metadata: JSON.stringify({ parts: n }),
    title: { type: "plain_text", text: "Edit rules" },
    submit: { type: "plain_text", text: "Preview" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `Active: *v${options.version}*. ${n > 1 ? `The JSON spans ${n} boxes, read in order. ` : ""}*Preview* validates the file and shows what would change; nothing is saved until you confirm.`,
        },
      },
      ...options.parts.map((part, i) => ({
        type: "input" as const,
        block_id: `rules_part_${i}`,
        optional: i > 0,
        label: { type: "plain_text" as const, text: n > 1 ? `Rule file JSON (part ${i + 1} of ${n})` : "Rule file JSON" },
        element: { type: "plain_text_input" as const, action_id: "json", multiline: true, max_length: RULES_PART_MAX, initial_value: part },
      })),
    ],
  };
}
