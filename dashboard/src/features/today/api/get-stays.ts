import { queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";

export interface Stay {
  id: string;
  pmsReservationId: string;
  guestName: string | null;
  room: string | null;
  status: string;
}

interface Row {
  id: string;
  pms_reservation_id: string;
  room_label: string | null;
  status: string;
  guests: { full_name: string | null } | null;
}

// The reservations arriving or departing on the hotel's local date.
export async function getStays(tenantId: string, column: "arrival_date" | "departure_date", date: string) {
  const { data, error } = await supabase
    .from("reservations")
    .select("id, pms_reservation_id, room_label, status, guests(full_name)")
    .eq("tenant_id", tenantId)
    .eq(column, date)
    .neq("status", "cancelled")
    .order("pms_reservation_id")
    .limit(200)
    .returns<Row[]>();
  if (error) throw toUserError(error);
  return data.map<Stay>((r) => ({
    id: r.id,
    pmsReservationId: r.pms_reservation_id,
    guestName: r.guests?.full_name ?? null,
    room: r.room_label,
    status: r.status,
  }));
}

export const staysQueryOptions = (tenantId: string, column: "arrival_date" | "departure_date", date: string) =>
  queryOptions({ queryKey: ["stays", tenantId, column, date], queryFn: () => getStays(tenantId, column, date) });

export function useStays(tenantId: string, column: "arrival_date" | "departure_date", date: string) {
  return useQuery(staysQueryOptions(tenantId, column, date));
}
