/**
 * A PostgreSQL array literal (`{1,NULL,"a \"b\""}`) of one column's values, to send as
 * a single text parameter cast to an array type and unnested: many rows in one small
 * statement. pg serialises a JavaScript array element by element through its generic
 * value conversion, which cost a first sweep's 14k nudges three times the client CPU
 * of this loop; a JSON document expanded by json_to_recordset instead moves that cost,
 * and more, to the server. Strings are always quoted, so any text round-trips.
 */
export function pgArray(values: readonly unknown[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) out += ",";
    if (value === null || value === undefined) out += "NULL";
    else if (typeof value === "number" || typeof value === "bigint") out += String(value);
    else out += `"${String(value).replace(/[\\"]/g, "\\$&")}"`;
  }
  return `${out}}`;
}

const INT8_OID = 20;
const TWO_32 = 2 ** 32;

/**
 * Whole numbers as a PostgreSQL bigint[] in its binary form: pg sends a Buffer
 * parameter as binary, so a `$1::bigint[]` parameter arrives without either side
 * formatting or parsing text (pg's own conversion of a 10,000-number array cost more
 * client CPU than the rest of an import batch's statements). Every value must be a
 * safe integer.
 */
export function pgBigintArray(values: readonly number[]): Buffer {
  // An empty array has no dimensions.
  if (values.length === 0) return Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, INT8_OID]);
  const out = Buffer.allocUnsafe(20 + 12 * values.length);
  out.writeInt32BE(1, 0); // dimensions
  out.writeInt32BE(0, 4); // no NULLs
  out.writeInt32BE(INT8_OID, 8);
  out.writeInt32BE(values.length, 12);
  out.writeInt32BE(1, 16); // lower bound
  let at = 20;
  for (let i = 0; i < values.length; i++) at = writePgBigint(out, at, values[i] as number);
  return out;
}

/**
 * One bigint in PostgreSQL's binary form, as an array element or a binary COPY field
 * has it: its length (8), then the value (a safe integer) as two 32-bit halves. Returns
 * where the next field starts.
 */
export function writePgBigint(buffer: Buffer, at: number, value: number): number {
  const high = Math.floor(value / TWO_32);
  buffer.writeInt32BE(8, at);
  buffer.writeInt32BE(high, at + 4);
  buffer.writeUInt32BE(value - high * TWO_32, at + 8);
  return at + 12;
}
