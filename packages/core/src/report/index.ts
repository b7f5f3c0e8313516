export * from "./build";
export * from "./html";
export * from "./svg";
