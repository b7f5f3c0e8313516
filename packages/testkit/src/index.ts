export * from "./cli";
export * from "./tmp";
