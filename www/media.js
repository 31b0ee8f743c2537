// Local media made in the page, so the demo needs neither a camera nor a
// microphone (nor a permission prompt): a canvas animation and a quiet tone.

/**
 * Starts drawing on `canvas` and returns a stream with its video track and an
 * oscillator's audio track. `stop()` ends the animation, the tone and the tracks.
 */
export function createSyntheticStream(canvas) {
  const ctx = canvas.getContext("2d");
  let frame = 0;
  let raf = 0;
  const draw = () => {
    frame += 1;
    const { width: w, height: h } = canvas;
    ctx.fillStyle = "#14213d";
    ctx.fillRect(0, 0, w, h);
    // A moving ball and a frame counter: easy to see that video really flows.
    const x = w / 2 + Math.cos(frame / 30) * (w / 3);
    const y = h / 2 + Math.sin(frame / 20) * (h / 4);
    ctx.fillStyle = "#fca311";
    ctx.beginPath();
    ctx.arc(x, y, 18, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = "#ffffff";
    ctx.font = "16px system-ui, sans-serif";
    ctx.fillText(`frame ${frame}`, 12, h - 12);
    raf = requestAnimationFrame(draw);
  };
  draw();
  const video = canvas.captureStream(30);

  const audioCtx = new AudioContext();
  const osc = new OscillatorNode(audioCtx, { frequency: 440 });
  const gain = new GainNode(audioCtx, { gain: 0.05 });
  const dest = new MediaStreamAudioDestinationNode(audioCtx);
  osc.connect(gain).connect(dest);
  osc.start();

  const stream = new MediaStream([...video.getVideoTracks(), ...dest.stream.getAudioTracks()]);
  const stop = () => {
    cancelAnimationFrame(raf);
    stream.getTracks().forEach((t) => t.stop());
    osc.stop();
    audioCtx.close().catch(() => {});
  };
  return { stream, stop };
}
