// A React-Query-like hook around CallService.getIceServers(): loading, error
// or data, plus refetch. (A real messenger might use React Query itself.)
import { useCallback, useEffect, useState } from "react";
import type { IceServer, IceServersInfo } from "ice-peer";
import type { CallService } from "./call-service";

export type IceServersQuery =
  | { status: "idle" | "loading"; data?: undefined; error?: undefined; info?: undefined }
  | { status: "success"; data: IceServer[]; error?: undefined; info: IceServersInfo | null }
  | { status: "error"; data?: undefined; error: Error; info?: undefined };

/** Fetches when `service` is set (signed in); `refetch()` asks again (cache permitting). */
export function useIceServers(service: CallService | null): IceServersQuery & { refetch: () => void } {
  const [query, setQuery] = useState<IceServersQuery>({ status: "idle" });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    if (!service) {
      setQuery({ status: "idle" });
      return;
    }
    let current = true; // ignore answers for an unmounted component or an old service
    setQuery({ status: "loading" });
    service.getIceServers().then(
      (data) => current && setQuery({ status: "success", data, info: service.iceServersInfo }),
      (error: unknown) =>
        current && setQuery({ status: "error", error: error instanceof Error ? error : new Error(String(error)) }),
    );
    return () => {
      current = false;
    };
  }, [service, generation]);

  const refetch = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...query, refetch };
}
