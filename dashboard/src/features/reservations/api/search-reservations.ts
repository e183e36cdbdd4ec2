import { keepPreviousData, queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";

export const PAGE_SIZE = 25;

export interface SearchParams {
  tenantId: string;
  query: string;
  arrivalFrom: string;
  arrivalTo: string;
  page: number; // from 0
}

export interface TimelineEntry {
  id: number;
  template_key: string;
  status: string;
  scheduled_for: string;
  sent_at: string | null;
  delivered_at: string | null;
  read_at: string | null;
  last_error: string | null;
  updated_at: string;
}

export interface ReservationRow {
  reservation_id: string;
  property_id: string;
  provider: string;
  pms_reservation_id: string;
  status: string;
  arrival_date: string;
  departure_date: string;
  room_label: string | null;
  guest_id: string | null;
  guest_name: string | null;
  guest_phone: string | null;
  whatsapp_opt_in: boolean | null;
  messages: TimelineEntry[];
}

// One page of search_reservations; one row more than a page is asked for, to know if there is a next.
export async function searchReservations(p: SearchParams): Promise<{ rows: ReservationRow[]; hasNext: boolean }> {
  const { data, error } = await supabase
    .rpc("search_reservations", {
      p_tenant_id: p.tenantId,
      // Left out (undefined) = the function's default: no filter.
      p_query: p.query.trim() || undefined,
      p_arrival_from: p.arrivalFrom || undefined,
      p_arrival_to: p.arrivalTo || undefined,
      p_limit: PAGE_SIZE + 1,
      p_offset: p.page * PAGE_SIZE,
    });
  if (error) throw toUserError(error);
  // `messages` is jsonb (the generated type says Json): the timeline entries the function builds.
  const rows = (data ?? []) as unknown as ReservationRow[];
  return { rows: rows.slice(0, PAGE_SIZE), hasNext: rows.length > PAGE_SIZE };
}

export const searchReservationsQueryOptions = (p: SearchParams) =>
  queryOptions({
    queryKey: ["reservations", p.tenantId, p.query.trim(), p.arrivalFrom, p.arrivalTo, p.page],
    queryFn: () => searchReservations(p),
    placeholderData: keepPreviousData,
  });

export function useSearchReservations(p: SearchParams) {
  return useQuery(searchReservationsQueryOptions(p));
}
