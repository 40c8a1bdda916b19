import { api } from "./api.ts";

/**
 * Where a page's access token comes from. Viewers get a guest token from the gateway, kept in
 * localStorage so a reload keeps the same buyer (and their holds). Hosts and admins bring theirs
 * in the URL fragment (`#token=…`, never sent to any server), which is then moved to
 * sessionStorage and removed from the address bar.
 */
const GUEST_KEY = "livedrop.guest";
const PRIVILEGED_KEY = "livedrop.token";

interface StoredGuest {
  readonly token: string;
  readonly userId: string;
  readonly expiresAt: number;
}

function storage(kind: "local" | "session"): Storage | undefined {
  try {
    return kind === "local" ? localStorage : sessionStorage;
  } catch {
    return undefined;
  }
}

/** A guest token valid for at least another minute; `fresh` forces a new one. */
export async function guestToken(fresh = false): Promise<string> {
  const store = storage("local");
  if (!fresh) {
    try {
      const saved = JSON.parse(store?.getItem(GUEST_KEY) ?? "null") as StoredGuest | null;
      if (saved && saved.expiresAt - Date.now() > 60_000) return saved.token;
    } catch {
      // unreadable: fetch a new one
    }
  }
  const issued = await api<StoredGuest>("/api/v1/tokens/guest", { method: "POST" });
  store?.setItem(GUEST_KEY, JSON.stringify(issued));
  return issued.token;
}

/** This browser's guest user id, if it has a guest token (the verify page finds its entries by it). */
export function guestUserId(): string | undefined {
  try {
    const saved = JSON.parse(storage("local")?.getItem(GUEST_KEY) ?? "null") as StoredGuest | null;
    return typeof saved?.userId === "string" ? saved.userId : undefined;
  } catch {
    return undefined;
  }
}

/** The host/admin token from `#token=…` (then remembered for this tab), if any. */
export function privilegedToken(): string | undefined {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match?.[1]) {
    const token = decodeURIComponent(match[1]);
    storage("session")?.setItem(PRIVILEGED_KEY, token);
    history.replaceState(null, "", location.pathname + location.search);
    return token;
  }
  return storage("session")?.getItem(PRIVILEGED_KEY) ?? undefined;
}

export function rememberPrivilegedToken(token: string): void {
  storage("session")?.setItem(PRIVILEGED_KEY, token);
}

/** The claims in a JWT's payload, read without verifying (display only; the server checks). */
export function peekClaims(token: string): { role?: string; rooms?: string[]; name?: string } {
  try {
    const part = token.split(".")[1] ?? "";
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(json) as { role?: string; rooms?: string[]; name?: string };
  } catch {
    return {};
  }
}
