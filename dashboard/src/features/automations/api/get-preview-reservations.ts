import { queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";
import type { PreviewReservation } from "./types";

// The hotel's reservations to preview a template with, the latest arrivals first.
export async function getPreviewReservations(tenantId: string): Promise<PreviewReservation[]> {
  const { data, error } = await supabase
    .from("reservations")
    .select("id, pms_reservation_id, arrival_date, departure_date, guests(full_name)")
    .eq("tenant_id", tenantId)
    .order("arrival_date", { ascending: false })
    .limit(50)
    .returns<
      {
        id: string;
        pms_reservation_id: string;
        arrival_date: string;
        departure_date: string;
        guests: { full_name: string | null } | null;
      }[]
    >();
  if (error) throw toUserError(error);
  return data.map((r) => ({
    id: r.id,
    pmsReservationId: r.pms_reservation_id,
    guestName: r.guests?.full_name ?? null,
    arrivalDate: r.arrival_date,
    departureDate: r.departure_date,
  }));
}

export const previewReservationsQueryOptions = (tenantId: string) =>
  queryOptions({ queryKey: ["automations-reservations", tenantId], queryFn: () => getPreviewReservations(tenantId) });

export function usePreviewReservations(tenantId: string) {
  return useQuery(previewReservationsQueryOptions(tenantId));
}
