import type { Generated, Selectable } from "kysely";

export interface ApiTokensTable {
  id: Generated<number>;
  name: string;
  /** SHA-256 of the token, hex: the token itself is shown once and never stored. */
  token_hash: string;
  /** Comma list of scopes (ingest, read, act). */
  scopes: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}
export type ApiToken = Selectable<ApiTokensTable>;

export interface ApiIdempotencyTable {
  token_id: number;
  key: string;
  request_hash: string;
  status: number;
  /** The JSON answer given the first time. */
  response: string;
  created_at: number;
}
export type ApiIdempotency = Selectable<ApiIdempotencyTable>;
