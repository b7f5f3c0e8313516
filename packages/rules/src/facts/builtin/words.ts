/** Small wording helpers the fact phrases share. */
export const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;
export const days = (n: number): string => plural(n, "day");
export const money = (n: number): string => n.toLocaleString("en-US", { minimumFractionDigits: 0, maximumFractionDigits: 2 });
export const signed = (n: number): string => (n > 0 ? `+${n}` : n < 0 ? `−${-n}` : "0");
