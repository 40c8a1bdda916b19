/**
 * The browser client's public surface for Node: where its build lives (the gateway serves it)
 * and how to make one (client/build.ts). The client's own code is under client/src and runs in
 * the browser only.
 */

export { type BuildReport, buildClient, ensureClientBuilt } from "./build.ts";
export { CLIENT_DIR, CLIENT_DIST_DIR } from "./paths.ts";
