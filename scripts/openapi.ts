// Regenerate docs/openapi.json from the HTTP API's zod schemas (packages/api/src/schemas.ts
// and the ingest items of packages/core). A test fails when the checked-in copy differs.
//   npx tsx scripts/openapi.ts
import { writeFileSync } from "node:fs";
import { OPENAPI_PATH, openApiText } from "../packages/api/src/index";

writeFileSync(OPENAPI_PATH, openApiText());
console.log(`wrote ${OPENAPI_PATH}`);
