import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook } from "@testing-library/react";
import { createElement, type ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SETTLE_MS, useLiveQueries } from "./live";
import { supabase } from "./supabase";

// A stand-in for the Realtime channel: records the binding, lets the test deliver changes.
function fakeChannel() {
  const state: {
    binding?: Record<string, string>;
    onChange?: () => void;
    onStatus?: (s: string) => void;
  } = {};
  const channel = {
    on: (_type: string, binding: Record<string, string>, callback: () => void) => {
      state.binding = binding;
      state.onChange = callback;
      return channel;
    },
    subscribe: (callback: (s: string) => void) => {
      state.onStatus = callback;
      return channel;
    },
  };
  vi.spyOn(supabase, "channel").mockReturnValue(channel as never);
  const removed = vi.spyOn(supabase, "removeChannel").mockResolvedValue("ok");
  return { state, removed };
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("useLiveQueries", () => {
  it("listens to the hotel's rows, and refreshes the screen's queries once per burst of changes", () => {
    vi.useFakeTimers();
    const { state, removed } = fakeChannel();
    const client = new QueryClient();
    const invalidate = vi.spyOn(client, "invalidateQueries").mockResolvedValue();
    const wrapper = ({ children }: { children: ReactNode }) => createElement(QueryClientProvider, { client }, children);
    const { result, unmount } = renderHook(
      () => useLiveQueries("today:t1", { table: "message_logs", filter: "tenant_id=eq.t1" }, [["failures", "t1"]]),
      { wrapper },
    );

    expect(supabase.channel).toHaveBeenCalledWith(expect.stringMatching(/^today:t1:[a-z0-9]+$/));
    expect(state.binding).toEqual({ event: "*", schema: "public", table: "message_logs", filter: "tenant_id=eq.t1" });
    expect(result.current).toBe(false);
    act(() => state.onStatus?.("SUBSCRIBED"));
    expect(result.current).toBe(true);
    act(() => vi.advanceTimersByTime(SETTLE_MS));
    expect(invalidate).toHaveBeenCalledTimes(1); // what changed before the channel listened

    act(() => {
      state.onChange?.();
      state.onChange?.();
      state.onChange?.();
    });
    expect(invalidate).toHaveBeenCalledTimes(1);
    act(() => vi.advanceTimersByTime(SETTLE_MS));
    expect(invalidate).toHaveBeenCalledTimes(2);
    expect(invalidate).toHaveBeenLastCalledWith({ queryKey: ["failures", "t1"] });

    act(() => state.onStatus?.("CHANNEL_ERROR"));
    expect(result.current).toBe(false);
    unmount();
    expect(removed).toHaveBeenCalled();
  });
});
