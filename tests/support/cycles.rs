//! The create/close cycles shared by the leak suites (`web_peers_cycles*.rs`),
//! each in a page of its own: connections left to the GC by one scenario
//! would otherwise still count against Chrome's cap in the next.

use super::browser::{js, json};
use wasm_bindgen_test::console_log;

/// Runs `cycles` after `warmup` cycles and returns
/// `{ memory0, memory1, externrefs0, externrefs1, ms, capWaits }`. Explicit servers: no fetch.
/// Each cycle makes a caller and a callee, lets them exchange the offer, and
/// closes both. `free` also frees the JS wrappers (otherwise the
/// FinalizationRegistry does, whenever the GC runs).
pub async fn cycles(warmup: u32, cycles: u32, free: bool) -> figures::Figures {
    let result = js(&format!(
        r#"
        const manager = H.manager({{ endpoint: H.url("/ice/unused"), token: "tok" }});
        const iceServers = [{{ urls: "stun:127.0.0.1:47478" }}];
        let fired = 0;
        const handlers = {{ onConnect: () => fired++, onStream: () => fired++ }};
        // Chrome releases a collected connection some time after the collection,
        // later still on a machine busy with other work. A createPeer() that meets
        // the cap collects and waits, up to 10 times 200 ms, and is counted
        // (`capWaits`): connections the library still referenced would never be
        // released, and the test fails.
        let capWaits = 0, done = 0;
        const create = async (options) => {{
            for (let wait = 0; ; wait++) {{
                try {{
                    return await manager.createPeer(options);
                }} catch (e) {{
                    if (!/so many PeerConnections/.test(String(e))) throw e;
                    if (wait === 10) throw new Error(`still at the connection cap after ${{wait}} waits (${{capWaits}} in all), cycle ${{done}}`);
                    capWaits++;
                    await H.gc();
                    await H.sleep(200);
                }}
            }}
        }};
        const cycle = async () => {{
            const callee = await create({{ initiator: false, iceServers, handlers }});
            let offered;
            const offer = new Promise((resolve) => (offered = resolve));
            const caller = await create({{ initiator: true, iceServers,
                handlers: {{ ...handlers, onSignal: (s) => s.type === "offer" && offered(s) }} }});
            await callee.signal(await offer);
            caller.close();
            callee.close();
            if ({free}) {{ caller.free(); callee.free(); }}
        }};
        // Chrome counts closed connections against its cap of 500 until they are
        // collected, so collect every 50 cycles (100 peers); a connection the library
        // still references would survive that and the cap would be hit within
        // the 1200 peers. Not every 100: Chrome releases a collected connection
        // a little later, and on a busy machine 200 per round came close enough
        // to the cap to fail now and then.
        const run = async (n) => {{
            for (let i = 0; i < n; i++) {{
                await cycle();
                done++;
                if (i % 50 === 49) await H.gc();
            }}
            await H.gc();
        }};
        await H.gc();
        await run({warmup});
        H.eq(manager.peerCount, 0, "peerCount after the warm-up");
        const memory0 = H.memoryBytes(), externrefs0 = H.externrefs();
        const t0 = performance.now();
        await run({cycles});
        const ms = performance.now() - t0;
        H.eq(manager.peerCount, 0, "peerCount after the cycles");
        H.eq(fired, 0, "onConnect/onStream on peers closed before connecting");
        return {{ memory0, memory1: H.memoryBytes(), externrefs0, externrefs1: H.externrefs(), ms, capWaits }};
        "#
    ))
    .await;
    figures::Figures::from(&result)
}

mod figures {
    use wasm_bindgen::JsValue;

    #[derive(Debug)]
    pub struct Figures {
        pub memory0: f64,
        pub memory1: f64,
        pub externrefs0: f64,
        pub externrefs1: f64,
        pub ms: f64,
        pub cap_waits: f64,
    }

    impl From<&JsValue> for Figures {
        fn from(v: &JsValue) -> Self {
            let get = |k: &str| {
                js_sys::Reflect::get(v, &k.into())
                    .ok()
                    .and_then(|x| x.as_f64())
                    .unwrap_or(f64::NAN)
            };
            Figures {
                memory0: get("memory0"),
                memory1: get("memory1"),
                externrefs0: get("externrefs0"),
                externrefs1: get("externrefs1"),
                ms: get("ms"),
                cap_waits: get("capWaits"),
            }
        }
    }
}

pub async fn report(line: String) {
    console_log!("{line}");
    js(&format!("await H.figure({});", json(&line.into()))).await;
}
