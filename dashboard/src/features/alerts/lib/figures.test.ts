import { describe, expect, it } from "vitest";
import { fixPath, formatFigure, unitOf } from "./figures";

describe("alert figures", () => {
  it("reads each runbook metric in its unit", () => {
    expect(unitOf("message_failure_rate")).toBe("ratio");
    expect(unitOf("waha_disconnected_minutes")).toBe("minutes");
    expect(unitOf("slow_query_seconds")).toBe("seconds");
    expect(unitOf("retry_queue_depth")).toBe("count");
    expect(formatFigure(0.6, "ratio", "en")).toBe("60%");
    expect(formatFigure(0.125, "ratio", "de")).toBe("12,5\u00a0%");
    expect(formatFigure(42, "minutes", "en")).toBe("42 min");
    expect(formatFigure(1234, "count", "en")).toBe("1,234");
    expect(formatFigure(null, "ratio", "en")).toBe("–");
  });

  it("sends staff to the screen where each alert is fixed", () => {
    expect(fixPath("message_failure_rate")).toBe("messages");
    expect(fixPath("dead_letters")).toBe("messages?status=dead");
    expect(fixPath("retry_queue_depth")).toBe("messages?status=failed");
    expect(fixPath("waha_disconnected_minutes")).toBe("whatsapp");
    expect(fixPath("pms_failing_minutes")).toBe("pms");
    expect(fixPath("webhook_failure_rate")).toBe("pms");
    expect(fixPath("something_new")).toBe("metrics");
  });
});
