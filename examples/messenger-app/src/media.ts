// Local media without a camera: a canvas animation and a quiet tone.

export interface SyntheticMedia {
  stream: MediaStream;
  stop(): void;
}

export function createSyntheticMedia(width = 320, height = 180): SyntheticMedia {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("2D canvas unavailable");
  let frame = 0;
  // A timer, not requestAnimationFrame: the canvas is off-screen.
  const timer = setInterval(() => {
    frame += 1;
    ctx.fillStyle = "#1d3557";
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = "#f1faee";
    ctx.font = "20px system-ui, sans-serif";
    ctx.fillText(`Alice · frame ${frame}`, 16, height / 2 + Math.sin(frame / 10) * 30);
  }, 1000 / 30);
  const video = canvas.captureStream(30);

  const audio = new AudioContext();
  const osc = new OscillatorNode(audio, { frequency: 330 });
  const gain = new GainNode(audio, { gain: 0.05 });
  const dest = new MediaStreamAudioDestinationNode(audio);
  osc.connect(gain).connect(dest);
  osc.start();

  const stream = new MediaStream([...video.getVideoTracks(), ...dest.stream.getAudioTracks()]);
  return {
    stream,
    stop() {
      clearInterval(timer);
      stream.getTracks().forEach((t) => t.stop());
      osc.stop();
      void audio.close();
    },
  };
}
