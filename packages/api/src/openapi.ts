import { fileURLToPath } from "node:url";
import { z } from "zod";
import { errorBody, WEBHOOK_EVENT_BODIES } from "./schemas";
import { ROUTES } from "./routes";

/** Errors every authenticated route may answer. */
const SHARED_ERRORS: Record<number, string> = {
  400: "Malformed JSON, a wrong field or query parameter",
  401: "Missing, unknown or revoked token",
  403: "The token lacks the route's scope",
  413: "Body over the limit",
  415: "Body is not application/json",
  429: "Over the token's request rate; retry after Retry-After seconds",
};

const REGISTRY_ID = "#/components/schemas/";

/**
 * The OpenAPI 3.1 document, generated from the routes and their zod schemas (JSON Schema
 * 2020-12 is OpenAPI 3.1's dialect). Request schemas describe what a client sends
 * (zod's input side), responses what it gets back (the output side).
 */
export function openApiDocument(): Record<string, unknown> {
  const components: Record<string, unknown> = {};
  const schema = (type: z.ZodType, io: "input" | "output") => {
    const json = z.toJSONSchema(type, { target: "draft-2020-12", io, unrepresentable: "any" });
    // Named schemas (.meta({ id })) become components, shared by every path that uses them.
    const {
      $schema: _schema,
      $defs,
      ...rest
    } = JSON.parse(JSON.stringify(json).replaceAll('"#/$defs/', `"${REGISTRY_ID}`)) as {
      $schema?: unknown;
      $defs?: Record<string, unknown>;
    };
    for (const [id, def] of Object.entries($defs ?? {})) components[id] = def;
    return rest;
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const parameters: unknown[] = [];
    for (const match of route.path.matchAll(/\{(\w+)\}/g)) parameters.push({ name: match[1], in: "path", required: true, schema: { type: "string" } });
    if (route.query !== undefined) {
      const query = schema(route.query, "input") as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, property] of Object.entries(query.properties ?? {})) {
        parameters.push({ name, in: "query", required: query.required?.includes(name) ?? false, schema: property });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = { description: response.description, content: { "application/json": { schema: schema(response.schema, "output") } } };
    }
    for (const [status, description] of Object.entries(SHARED_ERRORS)) {
      if (responses[status] === undefined) responses[status] = { description, content: { "application/json": { schema: { $ref: `${REGISTRY_ID}Error` } } } };
    }
    const operations = paths[route.path] ?? {};
    paths[route.path] = operations;
    operations[route.method.toLowerCase()] = {
      summary: route.summary,
      security: [{ bearer: [route.scope] }],
      "x-keepwarm-scope": route.scope,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body === undefined ? {} : { requestBody: { required: true, content: { "application/json": { schema: schema(route.body, "input") } } } }),
      ...(route.method === "POST"
        ? { "x-idempotency": "An Idempotency-Key header (1–200 printable characters) makes a retry with the same key and body return the first answer" }
        : {}),
      responses,
    };
  }
  components.Error ??= schema(errorBody, "output");
  // What keepwarm sends to a webhook (OpenAPI 3.1 `webhooks`): one operation per event type.
  const webhooks: Record<string, unknown> = {};
  for (const [type, body] of Object.entries(WEBHOOK_EVENT_BODIES)) {
    webhooks[type] = {
      post: {
        summary: type === "webhook.ping" ? "Sent by keepwarm webhooks test" : `Sent to webhooks subscribed to ${type}`,
        parameters: [
          {
            name: "Keepwarm-Signature",
            in: "header",
            required: true,
            schema: { type: "string" },
            description: 't=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>',
          },
          { name: "Keepwarm-Event-Id", in: "header", required: true, schema: { type: "string" }, description: "The event id, as in the body" },
          { name: "Keepwarm-Event-Type", in: "header", required: true, schema: { type: "string" } },
        ],
        requestBody: { required: true, content: { "application/json": { schema: schema(body, "output") } } },
        responses: { "2XX": { description: "Received; any other answer (or none within 5 s) is retried with backoff" } },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "keepwarm API",
      version: "1",
      description: "Feed keepwarm customers, touches, NPS responses and purchases; read customers, nudges and stats; act on nudges. See docs/api.md.",
    },
    servers: [{ url: "/" }],
    paths,
    webhooks,
    components: {
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "keepwarm tokens create --name NAME --scopes ingest,read,act" } },
    },
  };
}

/** The checked-in copy, for readers and tools that do not run keepwarm. */
export const OPENAPI_PATH = fileURLToPath(new URL("../../../docs/openapi.json", import.meta.url));
export const openApiText = (): string => `${JSON.stringify(openApiDocument(), null, 2)}\n`;
