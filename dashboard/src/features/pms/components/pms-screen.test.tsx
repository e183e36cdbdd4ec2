import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { supabase } from "../../../lib/supabase";
import { renderUi, testQueryClient } from "../../../test/render";
import { connectionsQueryOptions, type PmsConnections } from "../api/get-connections";
import { failedEventsQueryOptions, type FailedEvent } from "../api/get-failed-events";
import { syncJobsQueryOptions, type SyncJob } from "../api/get-sync-jobs";
import { PmsScreen } from "./pms-screen";

const TENANT = "11111111-1111-1111-1111-111111111111";
const CONFIG = "22222222-2222-2222-2222-222222222222";

const connections: PmsConnections = {
  webhookKey: "hotel-key-0123456789",
  connections: [
    {
      id: CONFIG,
      provider: "mews",
      authScheme: "token",
      isActive: true,
      health: "failing",
      consecutiveFailures: 2,
      lastError: "Mews answered 503",
      lastErrorAt: "2027-03-28T08:00:00Z",
      lastSuccessAt: "2027-03-27T08:00:00Z",
      credentialsSetAt: "2027-03-01T08:00:00Z",
      webhookSecretSetAt: null,
      syncPausedReason: null,
      lastEventAt: "2027-03-28T07:30:00Z",
    },
  ],
};

function job(overrides: Partial<SyncJob>): SyncJob {
  return {
    id: "33333333-3333-3333-3333-333333333333",
    pmsConfigurationId: CONFIG,
    kind: "incremental",
    trigger: "schedule",
    status: "failed",
    attempts: 1,
    pages: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    failed: 0,
    error: "Mews answered 503",
    requestedAt: "2027-03-28T07:59:00Z",
    startedAt: "2027-03-28T07:59:30Z",
    finishedAt: "2027-03-28T08:00:00Z",
    ...overrides,
  };
}

const events: FailedEvent[] = [
  {
    id: 41,
    provider: "mews",
    eventType: "ServiceOrderUpdated",
    eventId: "mews:abc",
    problem: "dead",
    attempts: 1,
    replayCount: 0,
    lastError: `rejected by the database: unknown property PROP-2 for tenant ${TENANT}`,
    receivedAt: "2027-03-28T07:00:00Z",
    updatedAt: "2027-03-28T07:00:01Z",
    nextAttemptAt: "2027-03-28T07:00:00Z",
  },
  {
    id: 42,
    provider: "mews",
    eventType: "ServiceOrderUpdated",
    eventId: "mews:def",
    problem: "retrying",
    attempts: 2,
    replayCount: 0,
    lastError: "TransientError: Mews answered 503",
    receivedAt: "2027-03-28T07:10:00Z",
    updatedAt: "2027-03-28T07:10:01Z",
    nextAttemptAt: "2027-03-28T07:15:00Z",
  },
];

// What the Data API answers per table when the screen asks again (after an action, or polling).
let tables: Record<string, unknown[]> = {};

function fakeQuery(table: string) {
  type Row = Record<string, unknown>;
  let found = (tables[table] ?? []) as Row[];
  const builder: Record<string, unknown> = {};
  for (const name of ["select", "neq", "order", "limit", "returns"]) builder[name] = () => builder;
  // The filters the screen uses, on the columns the fake rows have.
  builder.eq = (column: string, value: unknown) => {
    found = found.filter((r) => !(column in r) || r[column] === value);
    return builder;
  };
  builder.in = (column: string, values: unknown[]) => {
    found = found.filter((r) => values.includes(r[column]));
    return builder;
  };
  builder.or = () => {
    found = found.filter((r) => r.status === "dead" || (r.status === "pending" && Number(r.attempts) > 0));
    return builder;
  };
  builder.single = () => Promise.resolve({ data: found[0], error: null });
  builder.then = (resolve: (v: unknown) => unknown) => Promise.resolve({ data: found, error: null }).then(resolve);
  return builder;
}

function seeded(jobs: SyncJob[]) {
  const client = testQueryClient();
  client.setQueryData(connectionsQueryOptions(TENANT).queryKey, connections);
  client.setQueryData(syncJobsQueryOptions(TENANT).queryKey, jobs);
  client.setQueryData(failedEventsQueryOptions(TENANT).queryKey, events);
  return client;
}

function answer(data: unknown, error: unknown = null) {
  return { data, error, count: null, status: error ? 400 : 200, statusText: "" } as never;
}

// The same data as the Data API's rows, for when the screen asks again.
function rows(): Record<string, unknown[]> {
  return {
    tenants: [{ webhook_key: connections.webhookKey }],
    pms_configurations: connections.connections.map((c) => ({
      id: c.id, provider: c.provider, auth_scheme: c.authScheme, is_active: c.isActive, health: c.health,
      consecutive_failures: c.consecutiveFailures, last_error: c.lastError, last_error_at: c.lastErrorAt,
      last_success_at: c.lastSuccessAt, credentials_set_at: c.credentialsSetAt,
      webhook_secret_set_at: c.webhookSecretSetAt, sync_paused_reason: c.syncPausedReason,
    })),
    inbound_events: events.map((e) => ({
      id: e.id, provider: e.provider, event_type: e.eventType, event_id: e.eventId,
      status: e.problem === "dead" ? "dead" : "pending", attempts: e.attempts, replay_count: e.replayCount,
      last_error: e.lastError, received_at: e.receivedAt, updated_at: e.updatedAt, next_attempt_at: e.nextAttemptAt,
    })),
  };
}

beforeEach(() => {
  tables = rows();
  vi.spyOn(supabase, "from").mockImplementation(((table: string) => fakeQuery(table)) as never);
});
afterEach(() => vi.restoreAllMocks());
// Many clicks and typed characters each: seconds on a loaded 2-core machine.
vi.setConfig({ testTimeout: 20_000 });

describe("PmsScreen", () => {
  it("shows front desk the health, the history and the errors in words, and nothing to act with", () => {
    renderUi(<PmsScreen tenantId={TENANT} timeZone="Europe/Berlin" canManage={false} />, seeded([job({})]));
    const card = screen.getByRole("region", { name: "Mews" });
    expect(within(card).getByText("Failing")).toBeInTheDocument();
    expect(within(card).getByText("Failing: 2 failures in a row")).toBeInTheDocument();
    expect(within(card).getByText("Mar 28, 2027, 9:30 AM")).toBeInTheDocument(); // last event, Berlin
    const history = screen.getByRole("region", { name: "Sync history" });
    expect(within(history).getByText("Schedule")).toBeInTheDocument();
    expect(within(history).getByText("Mews answered 503")).toBeInTheDocument();
    const errors = screen.getByRole("region", { name: "PMS events with errors" });
    expect(within(errors).getByText(/property "PROP-2", which this hotel does not have/)).toBeInTheDocument();
    expect(within(errors).queryByText(new RegExp(TENANT))).toBeNull();
    expect(screen.queryByRole("button", { name: /Sync now|Replay|secret/i })).toBeNull();
    expect(screen.queryByText(/pms-webhook/)).toBeNull();
  });

  it("gives the webhook URL and shows a new secret once, with a warning", async () => {
    const rpc = vi.spyOn(supabase, "rpc").mockResolvedValue(answer("0123456789abcdef0123456789abcdef"));
    renderUi(<PmsScreen tenantId={TENANT} timeZone="Europe/Berlin" canManage />, seeded([]));
    expect(screen.getByLabelText("Webhook URL for Mews")).toHaveValue(
      "http://127.0.0.1:54321/functions/v1/pms-webhook/mews/hotel-key-0123456789",
    );
    await userEvent.click(screen.getByRole("button", { name: "Generate a secret" }));
    expect(rpc).toHaveBeenCalledWith("rotate_pms_webhook_secret", { p_pms_configuration_id: CONFIG });
    const shown = await screen.findByTestId("new-secret");
    expect(shown).toHaveTextContent("It is shown only this once");
    expect(within(shown).getByLabelText("New webhook secret")).toHaveValue("0123456789abcdef0123456789abcdef");
    expect(within(shown).getByLabelText("Webhook URL with the secret")).toHaveValue(
      "http://127.0.0.1:54321/functions/v1/pms-webhook/mews/hotel-key-0123456789?token=0123456789abcdef0123456789abcdef",
    );
    expect(within(shown).getByRole("button", { name: "Copy: New webhook secret" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "I have copied it" }));
    expect(screen.queryByDisplayValue("0123456789abcdef0123456789abcdef")).toBeNull();
  });

  it("says in words why a pasted secret was refused", async () => {
    vi.spyOn(supabase, "rpc").mockResolvedValue(
      answer(null, { code: "23514", message: "webhook secret must have at least 16 characters", details: null, hint: null }),
    );
    renderUi(<PmsScreen tenantId={TENANT} timeZone="Europe/Berlin" canManage />, seeded([]));
    await userEvent.type(screen.getByLabelText("Secret from the PMS"), "short");
    await userEvent.click(screen.getByRole("button", { name: "Save secret" }));
    expect(
      await screen.findByText(
        "This secret was not accepted: webhook secret must have at least 16 characters. Check it and try again.",
      ),
    ).toBeInTheDocument();
  });

  it("syncs now and follows the job to its result", async () => {
    const id = "44444444-4444-4444-4444-444444444444";
    const rpc = vi.spyOn(supabase, "rpc").mockResolvedValue(answer(id));
    tables.sync_jobs = [{ id, pms_configuration_id: CONFIG, kind: "full", trigger: "manual", status: "running",
      attempts: 1, pages: 0, created_count: 0, updated_count: 0, unchanged_count: 0, failed_count: 0, error: null,
      requested_at: "2027-03-28T09:00:00Z", started_at: "2027-03-28T09:00:01Z", finished_at: null }];
    const client = seeded([]);
    renderUi(<PmsScreen tenantId={TENANT} timeZone="Europe/Berlin" canManage />, client);
    await userEvent.selectOptions(screen.getByLabelText("What to sync"), "full");
    await userEvent.click(screen.getByRole("button", { name: "Sync now" }));
    expect(rpc).toHaveBeenCalledWith("request_sync", { p_pms_configuration_id: CONFIG, p_kind: "full" });
    const progress = screen.getByTestId("sync-progress");
    expect(await within(progress).findByText("Syncing since Mar 28, 2027, 11:00 AM…")).toBeInTheDocument();

    tables.sync_jobs = [{ ...(tables.sync_jobs[0] as object), status: "succeeded", created_count: 3,
      unchanged_count: 5, finished_at: "2027-03-28T09:00:05Z" }];
    await client.invalidateQueries({ queryKey: ["pms-sync-jobs", TENANT] });
    expect(
      await within(progress).findByText("Sync finished: 3 new, 0 changed, 5 unchanged."),
    ).toBeInTheDocument();
  });

  it("replays one event, and a selection at once, saying what came of it", async () => {
    const rpc = vi
      .spyOn(supabase, "rpc")
      .mockResolvedValueOnce(answer(true))
      .mockResolvedValueOnce(answer({ taken: 0, refused: { not_dead_lettered: 1 } }));
    renderUi(<PmsScreen tenantId={TENANT} timeZone="Europe/Berlin" canManage />, seeded([]));
    // Only events that gave up are replayed by hand; the others are retried by themselves.
    expect(screen.getAllByRole("button", { name: /^Replay: / })).toHaveLength(1);
    expect(screen.getByText(/Tried again automatically at/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Replay: ServiceOrderUpdated #41" }));
    expect(rpc).toHaveBeenCalledWith("replay_inbound_event", { p_event_id: 41 });
    expect(await screen.findByTestId("replay-notice")).toHaveTextContent(
      "ServiceOrderUpdated #41: Queued to be processed again.",
    );
    // It is followed until the worker is done with it: here, it failed again.
    expect(await screen.findByTestId("replayed-events")).toHaveTextContent(
      'ServiceOrderUpdated #41: failed again: The reservation is for property "PROP-2"',
    );

    await userEvent.click(screen.getByRole("checkbox", { name: "Select ServiceOrderUpdated #41" }));
    await userEvent.click(screen.getByRole("button", { name: "Replay selected (1)" }));
    expect(rpc).toHaveBeenLastCalledWith("replay_inbound_events", { p_tenant_id: TENANT, p_ids: [41] });
    const result = await screen.findByTestId("replay-result");
    expect(result).toHaveTextContent("0 events queued to be processed again.");
    expect(result).toHaveTextContent("1 not replayed: they were already queued again");
  });
});

describe("PmsScreen, setting a PMS up", () => {
  it("adds a connection with the PMS's webhook scheme, and says so", async () => {
    const insert = vi.fn();
    vi.mocked(supabase.from).mockImplementation(((table: string) => {
      if (table !== "pms_configurations") return fakeQuery(table);
      const q = fakeQuery(table);
      q.insert = (row: unknown) => {
        insert(row);
        return q;
      };
      q.single = () => Promise.resolve({ data: { id: CONFIG }, error: null });
      return q;
    }) as never);
    renderUi(<PmsScreen tenantId={TENANT} timeZone="Europe/Berlin" canManage />, seeded([]));
    const add = screen.getByRole("region", { name: "Add a PMS connection" });
    // Mews is connected already: the others are offered.
    expect(within(add).queryByRole("option", { name: "Mews" })).toBeNull();
    await userEvent.selectOptions(within(add).getByLabelText("PMS"), "apaleo");
    await userEvent.type(within(add).getByLabelText("Account id in the PMS (optional)"), "ACME");
    await userEvent.click(within(add).getByRole("button", { name: "Add connection" }));
    expect(await within(add).findByText(/Connection added/)).toBeInTheDocument();
    expect(insert).toHaveBeenCalledWith({
      tenant_id: TENANT,
      provider: "apaleo",
      auth_scheme: "basic",
      api_base_url: null,
      external_account_id: "ACME",
    });
  });

  it("writes the PMS's credentials and never shows them again", async () => {
    const rpc = vi.spyOn(supabase, "rpc").mockResolvedValue(answer(null));
    renderUi(<PmsScreen tenantId={TENANT} timeZone="Europe/Berlin" canManage />, seeded([]));
    const card = screen.getByRole("region", { name: "Mews" });
    const save = within(card).getByRole("button", { name: "Save credentials" });
    expect(save).toBeDisabled();
    await userEvent.type(within(card).getByLabelText("Client token"), "client-token-1");
    await userEvent.type(within(card).getByLabelText("Access token"), "access-token-1");
    await userEvent.click(save);
    expect(rpc).toHaveBeenCalledWith("set_pms_credentials", {
      p_pms_configuration_id: CONFIG,
      p_credentials: { client_token: "client-token-1", access_token: "access-token-1" },
    });
    expect(await within(card).findByText("Credentials saved. They cannot be read back.")).toBeInTheDocument();
    expect(within(card).getByLabelText("Client token")).toHaveValue("");
  });
});
