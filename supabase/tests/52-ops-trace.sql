-- `ops trace <requestId>`: every stored row and state change of one request, in order, recorded
-- by statement-level triggers as the real queue functions move the rows.
begin;
select plan(12);

insert into public.tenants (id, name) values ('55000000-0000-0000-0000-00000000000a', 'Trace Hotel');
insert into public.properties (tenant_id, name, timezone, pms_property_id)
values ('55000000-0000-0000-0000-00000000000a', 'Trace Main', 'Europe/Berlin', 'TR-1');
insert into public.waha_configurations (tenant_id, base_url, session_status)
values ('55000000-0000-0000-0000-00000000000a', 'http://waha.trace.test', 'WORKING');

-- A webhook arrives, is processed into a reservation, and a message follows it to "read".
select internal.ingest_inbound_events_v1('55000000-0000-0000-0000-00000000000a', 'pms', 'generic',
  '[{"event_id": "trace-evt-1", "event_type": "reservation.created", "payload": {}}]', 'req-trace-1');
select count(*) from internal.claim_inbound_events_v1('trace-worker', 500);
select internal.upsert_reservation_v1('55000000-0000-0000-0000-00000000000a',
  '{"provider": "generic", "pms_reservation_id": "TR-100", "pms_property_id": "TR-1", "status": "confirmed",
    "arrival_date": "2026-12-20", "departure_date": "2026-12-22", "pms_updated_at": "2026-11-26T10:00:00Z",
    "guest": {"full_name": "Grace Hopper", "phone": "+4915112345679"}}', 'req-trace-1');
insert into public.message_logs (tenant_id, template_key, dedupe_key, status, to_phone, body, request_id)
values ('55000000-0000-0000-0000-00000000000a', 'booking_confirmation', 'trace-msg-1', 'queued',
        '+4915112345679', 'Hello', 'req-trace-1');
select internal.complete_inbound_events_v1(
  array(select id from public.inbound_events where event_id = 'trace-evt-1'), 'trace-worker');
select count(*) from internal.claim_messages_v1('trace-worker', 500);
select internal.fail_message_v1((select id from public.message_logs where dedupe_key = 'trace-msg-1'),
  'trace-worker', 'WAHA 502 Bad Gateway', true, '0 seconds', '0 seconds');
update public.message_logs set next_attempt_at = now() where dedupe_key = 'trace-msg-1';
select count(*) from internal.claim_messages_v1('trace-worker', 500);
select internal.mark_message_sent_v1((select id from public.message_logs where dedupe_key = 'trace-msg-1'),
  'trace-worker', 'true_4915112345679@c.us_AAA');
select internal.record_message_ack_v1('55000000-0000-0000-0000-00000000000a', 'true_4915112345679@c.us_AAA', 3);

select results_eq(
  $$select entity, change from ops.trace_request('req-trace-1')$$,
  $$values ('inbound_event', 'received pms/generic reservation.created'),
           ('inbound_event', 'pending -> processing'),
           ('reservation', 'created (confirmed)'),
           ('message', 'planned (queued)'),
           ('inbound_event', 'processing -> succeeded'),
           ('message', 'queued -> sending'),
           ('message', 'sending -> failed'),
           ('message', 'failed -> sending'),
           ('message', 'sending -> sent'),
           ('message', 'sent -> read')$$,
  'the request''s whole story, in order: event, reservation, message, every state change'
);
select is(
  (select detail ->> 'error' from ops.trace_request('req-trace-1') where change = 'sending -> failed'),
  'WAHA 502 Bad Gateway',
  'a failed attempt shows its error'
);
select is(
  (select detail ->> 'waha_message_id' from ops.trace_request('req-trace-1') where change = 'sending -> sent'),
  'true_4915112345679@c.us_AAA',
  'the sent step shows WAHA''s message id'
);
select is(
  (select count(distinct tenant_id)::integer from ops.trace_request('req-trace-1')),
  1,
  'every step names its tenant'
);

-- A later request changes the reservation: that change belongs to the later request only.
select internal.upsert_reservation_v1('55000000-0000-0000-0000-00000000000a',
  '{"provider": "generic", "pms_reservation_id": "TR-100", "pms_property_id": "TR-1", "status": "cancelled",
    "arrival_date": "2026-12-20", "departure_date": "2026-12-22", "pms_updated_at": "2026-11-26T11:00:00Z"}',
  'req-trace-2');
select results_eq(
  $$select entity, change from ops.trace_request('req-trace-2') where entity = 'reservation'$$,
  $$values ('reservation', 'confirmed -> cancelled')$$,
  'a later request''s change is traced under that request'
);
select is(
  (select count(*)::integer from ops.trace_request('req-trace-1') where entity = 'reservation'),
  1,
  'and not under the first'
);

-- A sync job a request asked for.
insert into public.pms_configurations (id, tenant_id, provider)
values ('56000000-0000-0000-0000-00000000000a', '55000000-0000-0000-0000-00000000000a', 'generic');
select internal.enqueue_sync_v1('56000000-0000-0000-0000-00000000000a', 'reservation', 'webhook', 'TR-200', 'req-trace-4');
select results_eq(
  $$select entity, change from ops.trace_request('req-trace-4')$$,
  $$values ('sync_job', 'requested reservation sync (webhook)')$$,
  'a sync job requested on behalf of a request is part of its trace'
);

-- A sync job without a request of its own does not rewrite the reservation's history.
update public.reservations set status = 'confirmed', pms_updated_at = '2026-11-26T12:00:00Z',
  last_job_id = gen_random_uuid()
where pms_reservation_id = 'TR-100';
select is(
  (select count(*)::integer from ops.state_history where request_id = 'req-trace-2'),
  1,
  'a change made by a sync job is not attributed to the reservation''s last request'
);

-- With recording switched off, rows still tell their story from their own columns.
update ops.settings set record_state_history = false;
insert into public.message_logs (tenant_id, template_key, dedupe_key, status, request_id)
values ('55000000-0000-0000-0000-00000000000a', 'review', 'trace-msg-3', 'scheduled', 'req-trace-3');
update public.message_logs set status = 'cancelled', last_error = 'reservation cancelled'
where dedupe_key = 'trace-msg-3';
select is(
  (select count(*)::integer from ops.state_history where request_id = 'req-trace-3'),
  0,
  'nothing is recorded while recording is off'
);
select results_eq(
  $$select entity, change, detail ->> 'error' from ops.trace_request('req-trace-3')$$,
  $$values ('message', 'planned; now cancelled', 'reservation cancelled')$$,
  'yet the message and where it stands are still traced'
);
update ops.settings set record_state_history = true;

select is_empty($$select * from ops.trace_request('no-such-request')$$, 'an unknown request id has no trace');

set local role authenticated;
select throws_ok($$select * from ops.trace_request('req-trace-1')$$, '42501', null,
  'tracing is for the back end only');
reset role;

select * from finish();
rollback;
