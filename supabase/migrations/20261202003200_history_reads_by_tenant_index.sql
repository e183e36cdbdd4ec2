-- Members' reads of the tables that grow with history use the indexes led by tenant_id.
--
-- `tenant_id in (select private.tenant_ids_for())` is applied as a hashed filter row by row:
-- a member's list or count without a tenant filter read every hotel's rows, so its cost grew
-- with the platform, not with the hotel, towards the authenticated role's 8 s statement
-- timeout on hosted Supabase. `tenant_id = any (array(select ...))` is the same condition (the
-- column is never null), evaluated once as an array that an index scan can use. The function's
-- row estimate says what it returns: a user's few memberships, not the default 1,000 rows.
alter function private.tenant_ids_for(public.member_role[]) rows 3;

alter policy "Messages are visible to members of their tenant" on public.message_logs
using (tenant_id = any (array(select private.tenant_ids_for())));

alter policy "Inbound events are visible to members of their tenant" on public.inbound_events
using (tenant_id = any (array(select private.tenant_ids_for())));

alter policy "Sync jobs are visible to members of their tenant" on public.sync_jobs
using (tenant_id = any (array(select private.tenant_ids_for())));

alter policy "Reservations are visible to members of their tenant" on public.reservations
using (tenant_id = any (array(select private.tenant_ids_for())));

alter policy "Guests are visible to members of their tenant" on public.guests
using (tenant_id = any (array(select private.tenant_ids_for())));
