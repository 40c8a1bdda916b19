/** The room of `/<page>/<room>` (the gateway serves the page's HTML for any such path). */
export function roomFromPath(page: "live" | "host" | "replay"): string | undefined {
  const match = new RegExp(`^/${page}/([A-Za-z0-9_-]{1,64})/?$`).exec(location.pathname);
  return match?.[1];
}
