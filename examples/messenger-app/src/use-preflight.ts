// The network check shown before a call: manager.preflight() once per
// signed-in service, and again on refetch().
import { useCallback, useEffect, useState } from "react";
import type { PreflightReport } from "ice-peer";
import type { CallService } from "./call-service";

export type PreflightQuery =
  | { status: "idle" | "testing" }
  | { status: "done"; report: PreflightReport }
  | { status: "error"; error: Error };

/** Tests when `service` is set (signed in); `retest()` tests again. */
export function usePreflight(service: CallService | null): PreflightQuery & { retest: () => void } {
  const [query, setQuery] = useState<PreflightQuery>({ status: "idle" });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    if (!service) {
      setQuery({ status: "idle" });
      return;
    }
    let current = true;
    setQuery({ status: "testing" });
    service.preflight().then(
      (report) => current && setQuery({ status: "done", report }),
      (error: unknown) => current && setQuery({ status: "error", error: error instanceof Error ? error : new Error(String(error)) }),
    );
    return () => {
      current = false;
    };
  }, [service, generation]);

  const retest = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...query, retest };
}

/** What the verdict means for the user, in a line. */
export function verdictText(report: PreflightReport): string {
  switch (report.verdict) {
    case "direct":
      return "Your network allows direct calls.";
    case "relay":
      return `Calls from your network go through the relay (${report.relayTransports.join(", ")}).`;
    case "blocked":
      return "Calls cannot connect from this network: no call server answered.";
  }
}
