// What a React Query hook around fetch brings to the page: query-core's client.
export { QueryClient, QueryObserver } from "@tanstack/query-core";
