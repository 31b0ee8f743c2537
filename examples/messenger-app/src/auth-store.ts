// Stand-in for the messenger's auth store (Redux, Zustand, ...): it owns the
// JWT. Components read only the user name; the token goes to the call service.

export interface Session {
  user: string;
  token: string;
}

export class AuthStore {
  private session: Session | null = null;
  private readonly listeners = new Set<() => void>();

  /** The current JWT, read by PeerManager before every request. */
  get token(): string | null {
    return this.session?.token ?? null;
  }

  get user(): string | null {
    return this.session?.user ?? null;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Signs in with the backend's dev-only token endpoint (a real app has a login flow). */
  async signInDev(name: string): Promise<void> {
    const res = await fetch(`/api/dev/token?sub=${encodeURIComponent(name)}`, { method: "POST" });
    if (!res.ok) throw new Error(`sign-in failed: HTTP ${res.status}`);
    const body = (await res.json()) as { token?: unknown; sub?: unknown };
    if (typeof body.token !== "string") throw new Error("sign-in failed: no token in the response");
    this.session = { user: typeof body.sub === "string" ? body.sub : name, token: body.token };
    this.emit();
  }

  signOut(): void {
    this.session = null;
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}
