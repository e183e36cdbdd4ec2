-- Local times in a property's timezone: DST gaps and overlaps, quiet hours, and when each kind of
-- rule sends. Pure functions, so the expected instants are written out in UTC.
begin;
select plan(34);

set local timezone = 'UTC';

-- Wall-clock times that exist once -----------------------------------------------------------
select is(private.local_instant('2027-06-01 10:00', 'Europe/Berlin'), '2027-06-01 08:00+00'::timestamptz,
  'summer time in Berlin is UTC+2');
select is(private.local_instant('2027-01-15 10:00', 'America/New_York'), '2027-01-15 15:00+00'::timestamptz,
  'winter time in New York is UTC-5');

-- Spring forward: a local time in the gap means the instant the gap ends ---------------------
select is(private.local_instant('2027-03-28 02:30', 'Europe/Berlin'), '2027-03-28 01:00+00'::timestamptz,
  'Berlin 2027-03-28 02:30 does not exist: it is 03:00 CEST, the end of the gap');
select is(private.local_instant('2027-03-28 02:00', 'Europe/Berlin'), '2027-03-28 01:00+00'::timestamptz,
  'the first minute of the gap also maps to its end');
select is(private.local_instant('2027-03-28 03:00', 'Europe/Berlin'), '2027-03-28 01:00+00'::timestamptz,
  'and 03:00 itself is that same instant');
select is(private.local_instant('2027-03-28 01:59:59', 'Europe/Berlin'), '2027-03-28 00:59:59+00'::timestamptz,
  'the last second before the gap is still winter time');
select is(private.local_instant('2027-03-28 10:00', 'Europe/Berlin'), '2027-03-28 08:00+00'::timestamptz,
  'later that day Berlin is UTC+2');
select is(private.local_instant('2027-03-14 02:30', 'America/New_York'), '2027-03-14 07:00+00'::timestamptz,
  'New York 2027-03-14 02:30 does not exist: it is 03:00 EDT');
select is(private.local_instant('2027-10-03 02:15', 'Australia/Lord_Howe'), '2027-10-02 15:30+00'::timestamptz,
  'a half-hour gap (Lord Howe Island) ends at 02:30 local');

-- Fall back: a local time in the overlap means its first occurrence --------------------------
select is(private.local_instant('2026-10-25 02:30', 'Europe/Berlin'), '2026-10-25 00:30+00'::timestamptz,
  'Berlin 2026-10-25 02:30 happens twice: the first one, CEST');
select is(private.local_instant('2026-10-25 02:00', 'Europe/Berlin'), '2026-10-25 00:00+00'::timestamptz,
  'the start of the overlap is its first occurrence too');
select is(private.local_instant('2026-10-25 03:00', 'Europe/Berlin'), '2026-10-25 02:00+00'::timestamptz,
  '03:00 happens once, in winter time');
select is(private.local_instant('2026-10-25 01:59', 'Europe/Berlin'), '2026-10-24 23:59+00'::timestamptz,
  'before the overlap it is still summer time');
select is(private.local_instant('2027-11-07 01:30', 'America/New_York'), '2027-11-07 05:30+00'::timestamptz,
  'New York 2027-11-07 01:30 happens twice: the first one, EDT');
select is(private.local_instant('2027-04-04 01:45', 'Australia/Lord_Howe'), '2027-04-03 14:45+00'::timestamptz,
  'a half-hour overlap (Lord Howe Island): the first occurrence');

-- Quiet hours -----------------------------------------------------------------------------------
select is(private.after_quiet_hours('2027-06-01 21:30+00', 'Europe/Berlin', '21:00', '08:00'),
  '2027-06-02 06:00+00'::timestamptz,
  '23:30 local in a 21:00-08:00 window waits for 08:00 the next morning');
select is(private.after_quiet_hours('2027-06-01 00:00+00', 'Europe/Berlin', '21:00', '08:00'),
  '2027-06-01 06:00+00'::timestamptz,
  '02:00 local after midnight waits for 08:00 the same day');
select is(private.after_quiet_hours('2027-06-01 19:00+00', 'Europe/Berlin', '21:00', '08:00'),
  '2027-06-02 06:00+00'::timestamptz,
  'the start of the window is quiet');
select is(private.after_quiet_hours('2027-06-01 06:00+00', 'Europe/Berlin', '21:00', '08:00'),
  '2027-06-01 06:00+00'::timestamptz,
  'the end of the window is the first allowed minute');
select is(private.after_quiet_hours('2027-06-01 18:59+00', 'Europe/Berlin', '21:00', '08:00'),
  '2027-06-01 18:59+00'::timestamptz,
  'a minute before the window is allowed');
select is(private.after_quiet_hours('2027-06-01 11:00+00', 'Europe/Berlin', '12:00', '14:00'),
  '2027-06-01 12:00+00'::timestamptz,
  'a window within one day (12:00-14:00): 13:00 local waits for 14:00');
select is(private.after_quiet_hours('2027-06-01 21:30+00', 'Europe/Berlin', '00:00', '00:00'),
  '2027-06-01 21:30+00'::timestamptz,
  'start = end means no quiet hours');
select is(private.after_quiet_hours('2027-03-28 00:30+00', 'Europe/Berlin', '23:00', '02:30'),
  '2027-03-28 01:00+00'::timestamptz,
  'a window ending inside the spring-forward gap ends when the gap ends');

select is(private.after_quiet_hours('2026-10-24 23:10+00', 'Europe/Berlin', '01:00', '02:30'),
  '2026-10-25 00:30+00'::timestamptz,
  'a window ending inside the fall-back overlap ends at its first occurrence');
select is(private.after_quiet_hours('2026-10-25 01:10+00', 'Europe/Berlin', '01:00', '02:30'),
  '2026-10-25 01:30+00'::timestamptz,
  'but during the repeated hour, at its second occurrence (never earlier than the message)');
select is(private.after_quiet_hours('2026-03-29 00:59+00', 'Europe/London', '01:01', '01:00'),
  '2026-03-30 00:00+00'::timestamptz,
  'when a day''s only allowed minute falls into the spring-forward gap: the next day''s');

-- When each kind of rule sends ---------------------------------------------------------------
create temporary table prop on commit drop as
select jsonb_populate_record(null::public.properties, jsonb_build_object(
  'name', 'Test', 'timezone', 'Europe/Berlin', 'check_in_time', '15:00', 'check_out_time', '11:00',
  'quiet_hours_start', '21:00', 'quiet_hours_end', '08:00')) as p;

select is(private.rule_send_at('before_arrival', 3, '10:00', '2027-03-31', '2027-04-02', (select p from prop), now()),
  '2027-03-28 08:00+00'::timestamptz,
  'before_arrival: 3 days before arrival at 10:00 local, on the day summer time starts');
select is(private.rule_send_at('before_arrival', 3, null, '2027-03-31', '2027-04-02', (select p from prop), now()),
  '2027-03-28 13:00+00'::timestamptz,
  'before_arrival without a time of day: at check-in time');
select is(private.rule_send_at('arrival_day', 5, '14:00', '2026-12-20', '2026-12-23', (select p from prop), now()),
  '2026-12-20 13:00+00'::timestamptz,
  'arrival_day: on the arrival date (offset ignored), winter time');
select is(private.rule_send_at('after_departure', 1, null, '2026-10-20', '2026-10-24', (select p from prop), now()),
  '2026-10-25 10:00+00'::timestamptz,
  'after_departure without a time of day: at check-out time, the day after, across fall-back');
select is(private.rule_send_at('after_departure', 1, '23:00', '2027-06-01', '2027-06-03', (select p from prop), now()),
  '2027-06-05 06:00+00'::timestamptz,
  'a time of day inside quiet hours waits for their end');
select is(private.rule_send_at('booking_confirmed', 0, null, '2027-06-01', '2027-06-03', (select p from prop),
    '2027-05-01 10:00+00'),
  '2027-05-01 10:00+00'::timestamptz,
  'booking_confirmed: as soon as possible (12:00 local is allowed)');
select is(private.rule_send_at('booking_cancelled', 0, null, '2027-06-01', '2027-06-03', (select p from prop),
    '2027-05-01 20:00+00'),
  '2027-05-02 06:00+00'::timestamptz,
  'booking_cancelled at 22:00 local: deferred to the end of quiet hours');
select is(private.rule_send_at('booking_confirmed', 0, '09:00', '2027-06-01', '2027-06-03', (select p from prop),
    '2027-05-01 10:00+00'),
  '2027-05-02 07:00+00'::timestamptz,
  'an event rule with a time of day: its next occurrence');

select * from finish();
rollback;
