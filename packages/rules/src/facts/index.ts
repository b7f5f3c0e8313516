export * from "./aggregates";
export { npsCategory } from "./builtin/nps";
export { HEALTH_CHANGE_DAYS } from "./builtin/health";
export * from "./catalog";
export * from "./definition";
export * from "./docs";
export * from "./program";
