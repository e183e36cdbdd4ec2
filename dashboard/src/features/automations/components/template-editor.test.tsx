import { fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { supabase } from "../../../lib/supabase";
import { renderUi } from "../../../test/render";
import type { PreviewReservation, Template } from "../api/types";
import { TemplateEditor } from "./template-editor";

const TENANT = "11111111-1111-1111-1111-111111111111";
const ALLOWED = ["guest_name", "guest_first_name", "arrival_date"];
const template: Template = { id: "t1", key: "pre_arrival", language: "en", body: "Hi {{guest_first_name}}" };
const reservations: PreviewReservation[] = [
  {
    id: "r1",
    pmsReservationId: "R-1",
    guestName: "Ada Lovelace",
    arrivalDate: "2027-03-10",
    departureDate: "2027-03-12",
  },
  {
    id: "r2",
    pmsReservationId: "R-2",
    guestName: "Grace Hopper",
    arrivalDate: "2027-03-01",
    departureDate: "2027-03-02",
  },
];

const ok = (data: unknown) => ({ data, error: null, count: null, status: 200, statusText: "OK" }) as never;

// The database's renderer, as far as these tests need it: first name and arrival date per guest.
function fakeDatabase() {
  const guests: Record<string, { first: string; arrival: string; language: string }> = {
    r1: { first: "Ada", arrival: "2027-03-10", language: "de" },
    r2: { first: "Grace", arrival: "2027-03-01", language: "en" },
  };
  return vi.spyOn(supabase, "rpc").mockImplementation(((
    name: string,
    args: { p_body: string; p_reservation_id: string },
  ) => {
    const body = args.p_body;
    const unknown = [...body.matchAll(/\{\{\s*([^{}]*?)\s*\}\}/g)]
      .map((m) => m[1] ?? "")
      .filter((n) => !ALLOWED.includes(n));
    if (name === "check_template") return Promise.resolve(ok({ unknown, unbalanced: false, allowed: ALLOWED }));
    const g = guests[args.p_reservation_id]!;
    const text = unknown.length
      ? null
      : body.replace(/\{\{\s*guest_first_name\s*\}\}/g, g.first).replace(/\{\{\s*arrival_date\s*\}\}/g, g.arrival);
    return Promise.resolve(
      ok({ text, unknown, unbalanced: false, allowed: ALLOWED, guest_language: g.language, language: "en" }),
    );
  }) as never);
}

afterEach(() => vi.restoreAllMocks());

describe("TemplateEditor", () => {
  it("previews the text for the chosen guest, asking once typing pauses", async () => {
    const rpc = fakeDatabase();
    renderUi(
      <TemplateEditor
        tenantId={TENANT}
        template={template}
        reservations={reservations}
        canEdit
        onClose={() => {}}
        onCreated={() => {}}
      />,
    );
    const preview = screen.getByTestId("template-preview");
    await waitFor(() => expect(preview).toHaveTextContent("Hi Ada"));
    expect(
      screen.getByText("This guest's language is de; with the saved templates they receive the en version."),
    ).toBeInTheDocument();

    const calls = rpc.mock.calls.length;
    // Typing, faster than the debounce: one request for the text once typing pauses.
    const body = screen.getByLabelText("Message text");
    for (const text of ["See", "See you on {{arr", "See you on {{arrival_date}}, {{guest_first_name}}"]) {
      fireEvent.change(body, { target: { value: text } });
    }
    fireEvent.change(body, { target: { value: "See you on {{arrival_date}}, {{guest_first_name}}!" } });
    await waitFor(() => expect(preview).toHaveTextContent("See you on 2027-03-10, Ada!"));
    expect(rpc.mock.calls.length).toBe(calls + 1);
    expect(rpc).toHaveBeenLastCalledWith("preview_template", {
      p_reservation_id: "r1",
      p_body: "See you on {{arrival_date}}, {{guest_first_name}}!",
      p_key: "pre_arrival",
    });

    await userEvent.selectOptions(screen.getByLabelText("Preview for reservation"), "r2");
    await waitFor(() => expect(preview).toHaveTextContent("See you on 2027-03-01, Grace!"));
  });

  it("names unknown placeholders, and the save's refusal says the same in words", async () => {
    fakeDatabase();
    const update = vi.fn(() => ({
      eq: () => ({
        eq: () => ({
          select: () => ({
            single: () =>
              Promise.resolve({
                data: null,
                error: {
                  code: "23514",
                  message: "unknown placeholder(s) in template pre_arrival: room",
                  details: "room",
                  hint: "allowed: guest_name",
                },
              }),
          }),
        }),
      }),
    }));
    vi.spyOn(supabase, "from").mockReturnValue({ update } as never);
    renderUi(
      <TemplateEditor
        tenantId={TENANT}
        template={template}
        reservations={reservations}
        canEdit
        onClose={() => {}}
        onCreated={() => {}}
      />,
    );
    fireEvent.change(screen.getByLabelText("Message text"), {
      target: { value: "Hi {{guest_first_name}} in room {{room}}" },
    });
    const warning = await screen.findByRole("alert");
    expect(warning).toHaveTextContent("These placeholders do not exist: {{room}}.");
    expect(screen.getByTestId("template-preview")).toHaveTextContent("Fix the message text to see the preview.");

    await userEvent.click(screen.getByRole("button", { name: "Save template" }));
    await waitFor(() => expect(screen.getAllByRole("alert")).toHaveLength(2));
    expect(screen.getAllByRole("alert")[1]).toHaveTextContent(
      "These placeholders do not exist: {{room}}. Remove them or use one of the placeholders listed under the message text.",
    );
    expect(update).toHaveBeenCalledWith({ body: "Hi {{guest_first_name}} in room {{room}}" });
  });

  it("shows front desk the text and preview without a way to save", async () => {
    fakeDatabase();
    renderUi(
      <TemplateEditor
        tenantId={TENANT}
        template={template}
        reservations={reservations}
        canEdit={false}
        onClose={() => {}}
        onCreated={() => {}}
      />,
    );
    expect(screen.getByLabelText("Message text")).toHaveAttribute("readonly");
    expect(screen.queryByRole("button", { name: "Save template" })).toBeNull();
    await waitFor(() => expect(screen.getByTestId("template-preview")).toHaveTextContent("Hi Ada"));
  });
});
