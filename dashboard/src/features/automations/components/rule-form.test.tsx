import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { renderUi } from "../../../test/render";
import type { RuleInput } from "../api/types";
import { RuleForm } from "./rule-form";
import { RulesSection } from "./rules-section";

const rule: RuleInput = {
  name: "Pre-arrival",
  trigger: "before_arrival",
  offsetDays: 3,
  sendAtLocal: "10:00",
  templateKey: "pre_arrival",
  propertyId: null,
  isActive: true,
};

describe("RuleForm", () => {
  it("says what is wrong in words and saves nothing", async () => {
    const onSave = vi.fn();
    renderUi(
      <RuleForm
        initial={rule}
        templateKeys={["pre_arrival"]}
        properties={[]}
        saving={false}
        onSave={onSave}
        onCancel={() => {}}
      />,
    );
    await userEvent.clear(screen.getByLabelText(/Name/));
    await userEvent.clear(screen.getByLabelText("Number of days"));
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(screen.getByText("Give the rule a name.")).toBeInTheDocument();
    expect(screen.getByText("Enter a whole number of days from 0 to 365.")).toBeInTheDocument();
    expect(onSave).not.toHaveBeenCalled();
  });

  it("saves the edited trigger and time; event triggers have no days", async () => {
    const onSave = vi.fn();
    renderUi(
      <RuleForm
        initial={rule}
        templateKeys={["pre_arrival", "welcome"]}
        properties={[]}
        saving={false}
        onSave={onSave}
        onCancel={() => {}}
      />,
    );
    await userEvent.selectOptions(screen.getByLabelText("Trigger"), "arrival_day");
    expect(screen.queryByLabelText("Number of days")).toBeNull();
    const time = screen.getByLabelText("Send at (local time)");
    await userEvent.clear(time);
    await userEvent.type(time, "14:30");
    await userEvent.selectOptions(screen.getByLabelText("Template"), "welcome");
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(onSave).toHaveBeenCalledWith({
      ...rule,
      trigger: "arrival_day",
      sendAtLocal: "14:30",
      templateKey: "welcome",
    });
  });
});

describe("RulesSection", () => {
  const rules = [
    { ...rule, id: "a" },
    {
      ...rule,
      id: "b",
      name: "Thanks",
      trigger: "after_departure" as const,
      offsetDays: 1,
      sendAtLocal: null,
      isActive: false,
    },
  ];

  it("describes each rule in words; front desk gets no edit buttons", () => {
    renderUi(
      <RulesSection tenantId="t" rules={rules} templateKeys={["pre_arrival"]} properties={[]} canEdit={false} />,
    );
    expect(screen.getByText("3 days before arrival, at 10:00")).toBeInTheDocument();
    expect(screen.getByText("1 day after departure, at check-out time")).toBeInTheDocument();
    expect(screen.getByText("Off")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Edit|Add rule/ })).toBeNull();
  });

  it("gives owners an edit button per rule", () => {
    renderUi(<RulesSection tenantId="t" rules={rules} templateKeys={["pre_arrival"]} properties={[]} canEdit />);
    expect(screen.getByRole("button", { name: "Edit rule Thanks" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Add rule" })).toBeInTheDocument();
  });
});
