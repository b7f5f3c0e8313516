export * from "./cli";
export * from "./tmp";
export * from "./fake-slack";
export * from "./slack-signing";
export * from "./ports";
