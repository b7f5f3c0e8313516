export * from "./handler";
export * from "./openapi";
export * from "./rate-limit";
export * from "./read-body";
export * from "./tokens";
export { ApiError, ROUTES, type Route } from "./routes";
