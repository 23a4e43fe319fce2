export * from "./errors";
export * from "./api";
