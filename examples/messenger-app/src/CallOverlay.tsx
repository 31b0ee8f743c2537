// The in-call overlay: remote video, quality indicator (label + colour), controls.
import { useEffect, useRef } from "react";
import { qualityLabel } from "ice-peer";
import type { NetworkQuality, Peer, Quality } from "ice-peer";
import { usePeerNetworkQuality, usePeerQuality } from "./use-peer-quality";

/** The contract's colours; each has AA contrast with white text. */
export const QUALITY_COLOURS: Record<Quality, string> = {
  good: "#1a7f37", // green
  connecting: "#a85200", // orange
  poor: "#c2410c", // orange-red
  failed: "#b91c1c", // red
};

interface Props {
  peer: Peer | null;
  remoteStream: MediaStream | null;
  ended: boolean;
  onHangUp: () => void;
  onRestartIce: () => void;
}

export function QualityIndicator({ quality }: { quality: Quality | null }) {
  return (
    <span
      className="quality"
      data-testid="quality"
      data-quality={quality ?? "none"}
      role="status"
      aria-live="polite"
      style={quality ? { backgroundColor: QUALITY_COLOURS[quality] } : undefined}
    >
      {quality ? qualityLabel(quality) : "No call"}
    </span>
  );
}

/** Beside the ICE-state label: how the network itself is doing (loss, jitter, RTT). */
export function NetworkQualityBadge({ level }: { level: NetworkQuality | null }) {
  const text = level === null ? "" : level === "unknown" ? "measuring…" : `network ${level}`;
  return (
    <span className="network-quality" data-testid="network-quality" data-level={level ?? "none"}>
      {text}
    </span>
  );
}

export function CallOverlay({ peer, remoteStream, ended, onHangUp, onRestartIce }: Props) {
  const quality = usePeerQuality(peer);
  const networkQuality = usePeerNetworkQuality(peer);
  const video = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (video.current) video.current.srcObject = remoteStream;
  }, [remoteStream]);

  return (
    <section className="call-overlay" aria-label="Call with Bob">
      <header>
        <h2>Bob</h2>
        <QualityIndicator quality={quality} />
        <NetworkQualityBadge level={ended ? null : networkQuality} />
      </header>
      <video ref={video} data-testid="remote-video" autoPlay playsInline muted aria-label="Bob's video" />
      <div className="controls">
        <button type="button" onClick={onRestartIce} disabled={ended}>Restart ICE</button>
        <button type="button" className="danger" data-testid="hang-up" onClick={onHangUp} disabled={ended}>
          Hang up
        </button>
      </div>
    </section>
  );
}
