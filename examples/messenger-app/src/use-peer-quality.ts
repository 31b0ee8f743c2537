// Live connection quality of a peer, re-rendering on every ICE state change.
import { useCallback, useSyncExternalStore } from "react";
import type { NetworkQuality, Peer, Quality } from "ice-peer";

const noSubscription = () => () => {};

/** null while there is no peer. */
export function usePeerQuality(peer: Peer | null): Quality | null {
  // Bound per peer: wasm-bindgen methods need their `this`, and a new peer must resubscribe.
  const subscribe = useCallback((onChange: () => void) => peer?.subscribe(onChange) ?? noSubscription(), [peer]);
  return useSyncExternalStore(subscribe, () => peer?.quality ?? null);
}

/** The peer's graded network quality (from loss, jitter and RTT); null while there is no peer. */
export function usePeerNetworkQuality(peer: Peer | null): NetworkQuality | null {
  const subscribe = useCallback((onChange: () => void) => peer?.subscribe(onChange) ?? noSubscription(), [peer]);
  return useSyncExternalStore(subscribe, () => peer?.networkQuality ?? null);
}
