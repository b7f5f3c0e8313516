export const CLI_DIST: string;
export const CLI_SOURCE: string;
export const SOURCE_STAMP: string;
export function sourceHash(): string;
export function builtCliIsFresh(): boolean;
