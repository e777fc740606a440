// A configuration the gateway will not start with: main.ts prints it and exits 1. Its own file so
// that main.ts knows it without loading the configuration code (audit and help start light).
export class ConfigRefused extends Error {}
