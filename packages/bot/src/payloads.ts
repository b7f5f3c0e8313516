import { z } from "zod";

/** Every value we put in a button or view comes back from the client: parse it, never trust it. */
export const nudgeRef = z.object({ n: z.number().int().positive() });
export type NudgeRef = z.infer<typeof nudgeRef>;

export const snoozeChoice = z
  .string()
  .regex(/^\d{1,12}:\d{1,2}$/)
  .transform((v) => {
    const [n, d] = v.split(":");
    return { nudgeId: Number(n), days: Number(d) };
  });

export const chooseCustomer = z.object({ c: z.number().int().positive(), r: z.string().max(3000) });

export const touchModalMeta = z.object({ nudgeId: z.number().int().positive().nullable(), channel: z.string().max(50).nullable() });
export const dismissModalMeta = z.object({ nudgeId: z.number().int().positive() });

/** JSON.parse that yields undefined instead of throwing. */
export function parseJson<T>(schema: z.ZodType<T>, text: unknown): T | undefined {
  if (typeof text !== "string" || text.length > 4000) return undefined;
  try {
    const result = schema.safeParse(JSON.parse(text));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

export const encodeRef = (nudgeId: number): string => JSON.stringify({ n: nudgeId } satisfies NudgeRef);
