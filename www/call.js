// A call between a caller and a callee Peer in the same page. Their signaling
// channel is just a function call each way; a real app would use its socket.

/**
 * Returns `send(data)` that forwards to `target()` in order. Messages sent
 * before the target exists (the caller may offer while the callee is still
 * being created) are queued, and each `signal()` waits for the previous one
 * so an answer is never applied before its offer.
 */
function pipe(target, onError) {
  let chain = Promise.resolve();
  return (data) => {
    chain = chain.then(async () => {
      const peer = await target();
      await peer.signal(data);
    }).catch(onError);
  };
}

/**
 * Starts a call. `events` receives `state(who, state, quality)`, `stream(s)`,
 * `close(who)`, `error(who, err)` and, when it has it, `network(who, level, stats)`. Both peers are created at once so that,
 * when the servers are not cached, they share one request (and one wait).
 */
export async function startLoopbackCall(manager, { stream, policy, events }) {
  const handlers = (who, other) => ({
    onSignal: pipe(() => other(), (e) => events.error(who, e)),
    onIceStateChange: (state, quality) => events.state(who, state, quality),
    onNetworkQualityChange: (level, stats) => events.network?.(who, level, stats),
    onClose: () => events.close(who),
    onError: (err) => events.error(who, err),
  });
  const callerPromise = manager.createPeer({
    initiator: true,
    stream,
    iceTransportPolicy: policy,
    handlers: handlers("caller", () => calleePromise),
  });
  const calleePromise = manager.createPeer({
    initiator: false,
    iceTransportPolicy: policy,
    handlers: { ...handlers("callee", () => callerPromise), onStream: (s) => events.stream(s) },
  });
  const [caller, callee] = await Promise.all([callerPromise, calleePromise]);
  return { caller, callee };
}
