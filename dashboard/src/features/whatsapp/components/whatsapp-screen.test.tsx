import { FunctionsHttpError } from "@supabase/supabase-js";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { supabase } from "../../../lib/supabase";
import { renderUi, testQueryClient } from "../../../test/render";
import { whatsappQueryOptions, type WhatsappState } from "../api/get-whatsapp";
import { sessionQueryOptions, type SessionAnswer } from "../api/waha-session";
import { WhatsappScreen } from "./whatsapp-screen";

const TENANT = "11111111-1111-1111-1111-111111111111";
const ZONE = "Europe/Berlin";
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

const state = (over: Partial<WhatsappState> = {}): WhatsappState => ({
  sessionName: "default",
  status: "WORKING",
  statusChangedAt: "2027-03-28T08:00:00Z",
  pausedReason: null,
  hold: null,
  gapMinMs: 1000,
  gapMaxMs: 3000,
  ...over,
});

function seeded(s: WhatsappState | null) {
  const client = testQueryClient();
  client.setQueryData(whatsappQueryOptions(TENANT).queryKey, s);
  return client;
}

// waha-session through supabase.functions (a getter: a new client each time), answering in turn.
function wahaSession(...answers: (SessionAnswer | { qr: unknown } | Response)[]) {
  const invoke = vi.fn(async () => {
    const next = answers.length > 1 ? answers.shift()! : answers[0];
    if (next instanceof Response) return { data: null, error: new FunctionsHttpError(next) };
    return { data: next, error: null };
  });
  vi.spyOn(supabase, "functions", "get").mockReturnValue({ invoke } as never);
  return invoke;
}

const ok = (data: unknown) =>
  ({ data, error: null, count: null, status: 200, statusText: "OK" }) as never;

// After an action the screen reads waha_configurations again: the same row, from no server.
beforeEach(() => {
  const row = {
    session_name: "default",
    session_status: "WORKING",
    status_changed_at: "2027-03-28T08:00:00Z",
    sends_paused_reason: null,
    send_gap_min_ms: 1000,
    send_gap_max_ms: 3000,
  };
  const query = {
    select: () => query,
    eq: () => query,
    maybeSingle: async () => ({ data: row, error: null }),
  };
  vi.spyOn(supabase, "from").mockReturnValue(query as never);
});

afterEach(() => vi.restoreAllMocks());

describe("WhatsappScreen", () => {
  it("shows front desk the status, who paused sending and why, and the pacing, without actions", () => {
    const invoke = wahaSession({ session: { name: "default", status: "WORKING", phone: null }, qr: null });
    const hold = { reason: "new templates being checked", at: "2027-03-28T09:30:00Z", byEmail: "anna@hotel.test" };
    renderUi(
      <WhatsappScreen tenantId={TENANT} timeZone={ZONE} canManage={false} />,
      seeded(state({ hold, pausedReason: "held: new templates being checked" })),
    );
    expect(screen.getByTestId("session-status")).toHaveTextContent("Connected");
    expect(screen.getByText(/Last status change: Mar 28, 2027.*10:00/)).toBeInTheDocument(); // 08:00Z in Berlin
    const paused = screen.getByTestId("sending-hold");
    expect(paused).toHaveTextContent(/Paused by anna@hotel.test on Mar 28, 2027.*11:30/);
    expect(paused).toHaveTextContent("Reason: new templates being checked");
    expect(screen.getByTestId("pacing-now")).toHaveTextContent("a random 1 to 3 seconds");
    expect(screen.queryByRole("button")).toBeNull();
    expect(screen.queryByRole("textbox")).toBeNull();
    expect(invoke).not.toHaveBeenCalled();
  });

  it("says when the hotel has no WhatsApp connection yet", () => {
    renderUi(<WhatsappScreen tenantId={TENANT} timeZone={ZONE} canManage />, seeded(null));
    expect(screen.getByText(/has no WhatsApp \(WAHA\) connection yet/)).toBeInTheDocument();
  });

  it("shows the QR code while WAHA waits for a scan, then the connected number", async () => {
    const invoke = wahaSession(
      { session: { name: "default", status: "SCAN_QR_CODE", phone: null }, qr: { mimetype: "image/png", data: PNG } },
      { qr: { mimetype: "image/png", data: PNG } },
      { session: { name: "default", status: "WORKING", phone: "+4930123456789" }, qr: null },
    );
    const client = seeded(state({ status: "SCAN_QR_CODE" }));
    renderUi(<WhatsappScreen tenantId={TENANT} timeZone={ZONE} canManage />, client);
    const qr = await screen.findByRole("img", { name: "QR code to link the hotel's WhatsApp" });
    expect(qr).toHaveAttribute("src", `data:image/png;base64,${PNG}`);
    expect(screen.getByTestId("session-status")).toHaveTextContent("Waiting for QR scan");
    expect(invoke).toHaveBeenCalledWith("waha-session", { body: { action: "status", tenant_id: TENANT } });
    expect(invoke).toHaveBeenCalledWith("waha-session", { body: { action: "qr", tenant_id: TENANT } });

    // The phone scanned it: the next status poll says so.
    await client.refetchQueries({ queryKey: sessionQueryOptions(TENANT).queryKey });
    expect(await screen.findByText("Connected number: +4930123456789")).toBeInTheDocument();
    expect(screen.getByTestId("session-status")).toHaveTextContent("Connected");
    expect(screen.queryByRole("img")).toBeNull();
  });

  it("disconnects only after a confirmation", async () => {
    const invoke = wahaSession(
      { session: { name: "default", status: "WORKING", phone: "+4930123456789" }, qr: null },
      { session: { name: "default", status: "SCAN_QR_CODE", phone: null }, qr: { mimetype: "image/png", data: PNG } },
    );
    renderUi(<WhatsappScreen tenantId={TENANT} timeZone={ZONE} canManage />, seeded(state()));
    await userEvent.click(await screen.findByRole("button", { name: "Disconnect" }));
    const dialog = await screen.findByRole("dialog", { name: "Disconnect WhatsApp?" });
    expect(invoke).not.toHaveBeenCalledWith("waha-session", expect.objectContaining({ body: expect.objectContaining({ action: "logout" }) }));
    await userEvent.click(within(dialog).getByRole("button", { name: "Disconnect the phone" }));
    expect(await screen.findByText("The phone is disconnected. Scan the new QR code to connect again.")).toBeInTheDocument();
    expect(invoke).toHaveBeenCalledWith("waha-session", { body: { action: "logout", tenant_id: TENANT } });
    expect(await screen.findByRole("img", { name: "QR code to link the hotel's WhatsApp" })).toBeInTheDocument();
  });

  it("says in words what to do when WAHA does not answer", async () => {
    wahaSession(
      new Response(JSON.stringify({ error: "waha_unreachable", message: "WAHA at http://x did not answer" }), {
        status: 502,
        headers: { "content-type": "application/json" },
      }),
    );
    renderUi(<WhatsappScreen tenantId={TENANT} timeZone={ZONE} canManage />, seeded(state({ status: "STOPPED" })));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "The WAHA server does not answer. Check that it is running, then try again.",
    );
    expect(screen.getByRole("button", { name: "Connect WhatsApp" })).toBeInTheDocument();
  });

  it("pauses sending only with a reason", async () => {
    wahaSession({ session: { name: "default", status: "WORKING", phone: null }, qr: null });
    const rpc = vi.spyOn(supabase, "rpc").mockResolvedValue(ok(null));
    renderUi(<WhatsappScreen tenantId={TENANT} timeZone={ZONE} canManage />, seeded(state()));
    expect(screen.getByTestId("sending-state")).toHaveTextContent("Messages are being sent.");
    await userEvent.click(screen.getByRole("button", { name: "Pause sending" }));
    expect(screen.getByText("Say why sending is paused, in 1 to 500 characters.")).toBeInTheDocument();
    expect(rpc).not.toHaveBeenCalledWith("pause_tenant_sends", expect.anything());

    await userEvent.type(screen.getByRole("textbox", { name: /Reason for pausing/ }), "  checking templates ");
    await userEvent.click(screen.getByRole("button", { name: "Pause sending" }));
    expect(await screen.findByText(/Sending is paused\. No message goes out/)).toBeInTheDocument();
    expect(rpc).toHaveBeenCalledWith("pause_tenant_sends", { p_tenant_id: TENANT, p_reason: "checking templates" });
  });

  it("resumes sending that was paused by hand", async () => {
    wahaSession({ session: { name: "default", status: "WORKING", phone: null }, qr: null });
    const rpc = vi.spyOn(supabase, "rpc").mockResolvedValue(ok(true));
    const hold = { reason: "holiday", at: "2027-03-28T09:30:00Z", byEmail: null };
    renderUi(<WhatsappScreen tenantId={TENANT} timeZone={ZONE} canManage />, seeded(state({ hold })));
    expect(screen.getByTestId("sending-hold")).toHaveTextContent("Paused by a former member");
    await userEvent.click(screen.getByRole("button", { name: "Resume sending" }));
    expect(await screen.findByText("Sending is resumed.")).toBeInTheDocument();
    expect(rpc).toHaveBeenCalledWith("resume_tenant_sends", { p_tenant_id: TENANT });
  });

  it("checks the pacing in the form and shows the database's refusal in words", async () => {
    wahaSession({ session: { name: "default", status: "WORKING", phone: null }, qr: null });
    const rpc = vi.spyOn(supabase, "rpc").mockResolvedValue({
      data: null,
      error: { code: "22023", details: "pacing_too_long", message: "a gap ... at most 10 minutes", hint: null },
      count: null,
      status: 400,
      statusText: "Bad Request",
    } as never);
    renderUi(<WhatsappScreen tenantId={TENANT} timeZone={ZONE} canManage />, seeded(state()));
    const min = screen.getByRole("textbox", { name: /Shortest gap/ });
    const max = screen.getByRole("textbox", { name: /Longest gap/ });
    await userEvent.clear(min);
    await userEvent.type(min, "5");
    await userEvent.click(screen.getByRole("button", { name: "Save pacing" }));
    expect(screen.getByText("The longest gap must not be shorter than the shortest.")).toBeInTheDocument();
    expect(rpc).not.toHaveBeenCalled();

    await userEvent.clear(max);
    await userEvent.type(max, "8");
    await userEvent.click(screen.getByRole("button", { name: "Save pacing" }));
    expect(await screen.findByText("A gap can be at most 600 seconds (10 minutes).")).toBeInTheDocument();
    expect(rpc).toHaveBeenCalledWith("set_waha_pacing", {
      p_tenant_id: TENANT,
      p_send_gap_min_ms: 5000,
      p_send_gap_max_ms: 8000,
    });
  });
});
